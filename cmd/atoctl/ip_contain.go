package main

import "github.com/spf13/cobra"

// newIPContainCmds returns `ip contain` and `ip release` (bulk containment).
func newIPContainCmds(env *environment) []*cobra.Command {
	_ = env
	return nil
}
