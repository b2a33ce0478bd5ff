package responders

import (
	"slices"
	"time"
)

// PlanAccounts is the bulk plan for accounts an analyst picked by hand
// (rows marked in the console): the whole playbook for each, as for the
// compromised accounts of a network, and no network to block. Running it
// through Bulk gives the picked accounts the same phases, pacing, journal
// and resume as an IP's.
func PlanAccounts(ids []string, since time.Time) BulkPlan {
	var out []string
	for _, id := range ids {
		if id != "" && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return BulkPlan{Since: since, Compromised: out}
}
