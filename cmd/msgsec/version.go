package main

import (
	"fmt"
	"runtime/debug"
)

func versionCommand() *command {
	return &command{
		name:    "version",
		args:    "",
		summary: "print the module version msgsec was built from",
		help:    `Prints the msgsec module version and the Go version it was built with.`,
		run:     runVersion,
	}
}

func runVersion(c *cli, cmd *command, args []string) int {
	fs := newFlags(cmd)
	pos, code, ok := c.parse(cmd, fs, args)
	if !ok {
		return code
	}
	if code, ok := c.exactArgs(cmd, pos, 0, ""); !ok {
		return code
	}
	version, goVersion := "(unknown)", "(unknown)"
	if bi, ok := debug.ReadBuildInfo(); ok {
		version, goVersion = bi.Main.Version, bi.GoVersion
	}
	fmt.Fprintf(c.stdout, "msgsec %s (%s)\n", version, goVersion)
	return exitOK
}
