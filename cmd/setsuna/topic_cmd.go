package main

import (
	"fmt"
	"os"
)

// runTopic is replaced by the topics CLI.
func runTopic(args []string) int {
	fmt.Fprintln(os.Stderr, "setsuna topic: not available yet")
	return 2
}
