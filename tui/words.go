package tui

import "strconv"

// plural says "1 account", "2 accounts": every count the console prints
// goes through it (or pluralOf for irregular nouns), so no page says
// "1 addresses".
func plural(n int, what string) string {
	return pluralOf(n, what, what+"s")
}

// pluralOf is plural with the plural form given ("1 address",
// "2 addresses").
func pluralOf(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
