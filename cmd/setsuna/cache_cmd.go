package main

// runCache is replaced by the CLI implementation.
func runCache(args []string) int { return 2 }
