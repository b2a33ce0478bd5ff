package responders

// Progress folds a run's events into what a progress display shows: how
// many accounts are finished (every step has an outcome, or the account
// could not be loaded), how many of them with a failure, the failures, and
// the phase. The CLI's bar and the console's modal both read it.
type Progress struct {
	// Total is how many accounts the run works on.
	Total int
	// Finished and Failed count accounts (Failed ⊆ Finished).
	Finished, Failed int
	// Failures are "user: step: error" lines, one per failed account.
	Failures []string
	// Phase is the bulk phase under way ("" outside bulk runs).
	Phase string

	stepsFor map[string]int
	seen     map[string]int
	bad      map[string]bool
	done     map[string]bool
}

// NewProgress counts towards stepsFor: the step outcomes each account gets
// (BulkPlan.StepsFor, or the same count for every user of a Runner).
func NewProgress(stepsFor map[string]int) *Progress {
	return &Progress{Total: len(stepsFor), stepsFor: stepsFor, seen: map[string]int{}, bad: map[string]bool{}, done: map[string]bool{}}
}

// StepsEach is the stepsFor of a run that takes n steps for every user.
func StepsEach(users []string, n int) map[string]int {
	out := make(map[string]int, len(users))
	for _, u := range Unique(users) {
		out[u] = n
	}
	return out
}

// Add folds one event in; it reports whether an account just finished.
func (p *Progress) Add(ev Event) bool {
	if ev.UserID == "" { // a phase change, or the network ACL
		if ev.Phase != "" {
			p.Phase = ev.Phase
		}
		return false
	}
	if ev.Outcome == Running || p.done[ev.UserID] {
		return false
	}
	if ev.Step == "" { // the account could not be loaded: nothing more comes
		p.seen[ev.UserID] = p.stepsFor[ev.UserID]
	} else {
		p.seen[ev.UserID]++
	}
	if ev.Outcome == Failed && !p.bad[ev.UserID] {
		p.bad[ev.UserID] = true
		what := ev.Error
		if ev.Step != "" {
			what = ev.Step + ": " + ev.Error
		}
		p.Failures = append(p.Failures, ev.UserID+": "+what)
	}
	if p.seen[ev.UserID] < p.stepsFor[ev.UserID] {
		return false
	}
	p.done[ev.UserID] = true
	p.Finished++
	if p.bad[ev.UserID] {
		p.Failed++
	}
	return true
}

// Seed counts accounts as finished already: a resumed run's earlier work,
// so its progress continues where it stopped instead of from zero. Later
// events of those accounts (the resume re-verifies them) are not counted
// twice.
func (p *Progress) Seed(ids []string) {
	for _, id := range ids {
		if _, ok := p.stepsFor[id]; ok && !p.done[id] {
			p.done[id] = true
			p.Finished++
		}
	}
}

// FinishedInJournal lists the accounts of a plan whose every step has a
// journaled outcome (live or training) that did not fail: what a resumed
// run has already done.
func FinishedInJournal(recs []Record, plan BulkPlan) []string {
	ok := map[string]map[string]bool{}
	for _, r := range recs {
		if r.Kind != KindOutcome || r.UserID == "" || r.Mode == ModeDryRun {
			continue
		}
		if ok[r.UserID] == nil {
			ok[r.UserID] = map[string]bool{}
		}
		ok[r.UserID][r.Step] = r.Outcome != Failed
	}
	ids, steps := plan.AccountSteps()
	var out []string
	for _, id := range ids {
		done := len(steps[id]) > 0
		for _, s := range steps[id] {
			if !ok[id][s] {
				done = false
				break
			}
		}
		if done {
			out = append(out, id)
		}
	}
	return out
}
