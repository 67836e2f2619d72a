package main

func runServe(args []string) int { return 2 }
