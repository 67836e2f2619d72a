//go:build !unix

package auth

// lockFile is a no-op where flock is missing: concurrent writers of the
// revocation list (the CLI and a server) may then lose an entry.
func lockFile(string) (func(), error) { return func() {}, nil }
