package responders

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestTriageResultAndUnresolvedNamesAgree: the two together are the two
// apart, on the scenario without a directory (name-only accounts left
// over, others folded into their accounts).
func TestTriageResultAndUnresolvedNamesAgree(t *testing.T) {
	st, _ := generated()
	tr := NewTriage(TriageConfig{})
	for _, e := range st.Logs {
		tr.Add(scenarioEvent(e))
	}
	res, names := tr.ResultAndUnresolvedNames()
	want, _ := json.Marshal(tr.Result())
	got, _ := json.Marshal(res)
	if !bytes.Equal(got, want) {
		t.Error("ResultAndUnresolvedNames's result differs from Result's")
	}
	if wantNames := tr.UnresolvedNames(); len(names) == 0 || !slices.Equal(names, wantNames) {
		t.Errorf("unresolved names: %d, want the %d of UnresolvedNames", len(names), len(wantNames))
	}
}

// TestSortAccountsOrdersAsSortFunc: sortAccounts puts the decided
// verdicts in the very order slices.SortFunc puts them, ties (two
// accounts whose cleaned ids are alike) included.
func TestSortAccountsOrdersAsSortFunc(t *testing.T) {
	verdictsOf := []Verdict{VerdictCompromised, VerdictStoppedByMFA, VerdictTargeted}
	for _, n := range []int{0, 1, 2, 13, 100, 3000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(n), 7))
			accts := make([]AccountVerdict, n)
			decided := make([]bool, n)
			var want []AccountVerdict
			for i := range accts {
				// Few distinct ids: many ties, told apart by the name.
				accts[i] = AccountVerdict{UserID: fmt.Sprintf("auth0|%d", r.IntN(max(1, n/4))), UserName: fmt.Sprint(i),
					Verdict: verdictsOf[r.IntN(3)]}
				if decided[i] = r.IntN(5) > 0; decided[i] {
					want = append(want, accts[i])
				}
			}
			slices.SortFunc(want, func(a, b AccountVerdict) int {
				return cmp.Or(cmp.Compare(verdictRank(a.Verdict), verdictRank(b.Verdict)), cmp.Compare(a.UserID, b.UserID))
			})
			got := sortAccounts(accts, decided)
			if len(got) != len(want) || (len(want) == 0) != (got == nil) {
				t.Fatalf("%d accounts (nil %v), want %d", len(got), got == nil, len(want))
			}
			for i := range want {
				if got[i].UserID != want[i].UserID || got[i].UserName != want[i].UserName {
					t.Fatalf("account %d: %s %s, want %s %s", i, got[i].UserID, got[i].UserName, want[i].UserID, want[i].UserName)
				}
			}
		})
	}
}

// TestTriageResultInPartsEqualsOnePass: Result's passes over the pairs
// cut into parts (as on a large triage) give the result of one pass, on
// the scenario with and without its directory (name-only accounts folded
// into their accounts, or left alone), with ordinary addresses listed or
// counted.
func TestTriageResultInPartsEqualsOnePass(t *testing.T) {
	st, _ := generated()
	for _, resolve := range []bool{false, true} {
		for _, omit := range []bool{false, true} {
			tr := NewTriage(TriageConfig{OmitOrdinaryIPs: omit})
			for _, e := range st.Logs {
				tr.Add(scenarioEvent(e))
			}
			if resolve {
				resolveFromDirectory(tr, st)
			}
			canon, folded := tr.canonical()
			want, _ := json.Marshal(tr.result(canon, folded, 1))
			if !folded && resolve {
				t.Error("nothing folds into the directory's accounts")
			}
			for _, nw := range []int{2, 3, 7} {
				got, _ := json.Marshal(tr.result(canon, folded, nw))
				if !bytes.Equal(got, want) {
					t.Errorf("resolved %v, ordinary omitted %v: the result in %d parts differs from one pass", resolve, omit, nw)
				}
			}
		}
	}
}
