package main

import (
	_ "github.com/auth0/go-auth0/management"
	_ "github.com/charmbracelet/bubbles/table"
	_ "github.com/charmbracelet/bubbletea"
	_ "github.com/charmbracelet/lipgloss"
	_ "github.com/sahilm/fuzzy"
	_ "github.com/spf13/cobra"
)

func main() {}
