package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/atoctl/atoctl/auth0client"
	"github.com/atoctl/atoctl/responders"
)

func newIPCmd(env *environment) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ip",
		Short: "Find and contain attacking IP addresses",
		Example: `  atoctl ip triage --since 24h
  atoctl ip triage --logs-file export.ndjson --json`,
	}
	cmd.AddCommand(newIPTriageCmd(env))
	cmd.AddCommand(newIPContainCmds(env)...)
	return cmd
}

// ipTriageOptions are the inputs of `ip triage`.
type ipTriageOptions struct {
	since    string
	logsFile string
	limit    int
	allow    []string
	allIPs   bool
}

func newIPTriageCmd(env *environment) *cobra.Command {
	o := &ipTriageOptions{}
	cmd := &cobra.Command{
		Use:   "triage",
		Short: "Rank attacking IPs and sort the accounts they touched",
		Long: `Triage reads the tenant's log events (or a log-stream export) and ranks the
addresses of a credential-stuffing attack, with their /24 networks, and sorts
every account they touched into compromised (the attacker signed in),
stopped by MFA (the password is known: reset it) and targeted (failures
only), each with its evidence (log ids).

An address is flagged by the Auth0 Detection Catalog rule
logins_or_signups_from_suspicious_ips (an attack-protection event: pwd_leak,
limit_wc, limit_mu, …) or by the credential-stuffing signal (failed logins for
many accounts). Shared infrastructure is labelled and never flagged: addresses
where many accounts sign in with few failures (a web backend, a carrier NAT),
--allow networks. A success through shared infrastructure compromises an
account only on account-level evidence (the botnet's user agent, or an
account tried from flagged addresses signing in from a shared address new to
it).

From the tenant, --since sets the window and --limit caps the events read;
user names that only captcha failures or pwd_leak events name are looked up
with a user search. --logs-file reads an NDJSON export (with or without the
log-stream envelope; '-' is stdin) and sends nothing to any tenant; --since
then filters the file only when given.

Output: the flagged, suspicious and shared addresses, then the networks with
several flagged addresses, then the accounts (TSV sections separated by a
blank line when not on a terminal). --json prints every labelled address's
counters and reasons and the per-account evidence; ordinary addresses (no
label: home connections) are counted in ordinary_ips, and listed too with
--all-ips.`,
		Example: `  atoctl ip triage --since 24h
  atoctl --training ip triage --since 48h --json | jq '.accounts[] | select(.verdict=="compromised")'
  atoctl ip triage --logs-file auth0-export.ndjson --allow 10.0.0.0/8,198.51.100.7
  zcat stream.ndjson.gz | atoctl ip triage --logs-file - --json`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("ip triage takes no arguments, got %q (see --help)", auth0client.Clean(args[0]))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runIPTriage(cmd.Context(), env, o, cmd.Flags().Changed("since"))
		},
	}
	cmd.Flags().StringVar(&o.since, "since", "24h", "how far back: a duration (24h, 7d) or an RFC 3339 time")
	cmd.Flags().StringVar(&o.logsFile, "logs-file", "", "read a log-stream export (NDJSON) instead of the tenant; '-' reads stdin")
	cmd.Flags().IntVar(&o.limit, "limit", 0, fmt.Sprintf("most events to read (default: all of a file, %d from the tenant)", responders.DefaultTriageLimit))
	cmd.Flags().StringSliceVar(&o.allow, "allow", nil, "addresses or networks never flagged (comma-separated CIDRs: a VPN egress, a partner)")
	cmd.Flags().BoolVar(&o.allIPs, "all-ips", false, "with --json, list the ordinary addresses too (default: counted in ordinary_ips)")
	return cmd
}

// triageMemoryLimit is the soft memory limit of a triage of a file.
const triageMemoryLimit = 200 << 20

// triageOutput is the JSON form: where the events came from, and the result.
type triageOutput struct {
	Source string    `json:"source"` // tenant, file or stdin
	File   string    `json:"file,omitempty"`
	Since  time.Time `json:"since,omitzero"`
	// Read is what the log-stream reader saw (files only).
	Read *responders.LogStreamStats `json:"read,omitempty"`
	// Limited: --limit stopped the read before the end.
	Limited bool `json:"limited"`
	// UnresolvedNames counts user names named without a user id and not
	// looked up (files: never; tenant: past the lookup cap or not found).
	UnresolvedNames int `json:"unresolved_names"`
	// Fingerprints group the flagged addresses' events by TLS fingerprint.
	Fingerprints []responders.FingerprintReport `json:"fingerprints,omitempty"`
	responders.TriageResult
}

func runIPTriage(ctx context.Context, env *environment, o *ipTriageOptions, sinceSet bool) error {
	since, err := parseSince(o.since, time.Now())
	if err != nil {
		return err
	}
	if o.limit < 0 || o.limit > responders.MaxTriageLimit {
		return usagef("--limit must be between 1 and %d (0: the default)", responders.MaxTriageLimit)
	}
	allow, err := parsePrefixes("--allow", o.allow)
	if err != nil {
		return err
	}
	cfg := responders.TriageConfig{Allowlist: allow, OmitOrdinaryIPs: !o.allIPs}
	if o.logsFile != "" {
		return runIPTriageFile(ctx, env, o, cfg, since, sinceSet)
	}

	cfg.Since = since
	src, err := env.events(ctx, false)
	if err != nil {
		return err
	}
	tri, err := responders.TriageTenantFrom(ctx, src, cfg, o.limit, nil)
	if err != nil {
		return err
	}
	for _, n := range tri.Notes {
		fmt.Fprintln(env.stderr, "note: "+n)
	}
	out := triageOutput{Source: "tenant", Since: since, Limited: tri.Limited, UnresolvedNames: tri.UnresolvedNames, TriageResult: tri.TriageResult,
		Fingerprints: tri.Fingerprints}
	fmt.Fprintf(env.stderr, "read %d events from the tenant since %s\n", tri.Read, fmtTime(since))
	printFingerprints(env, tri.Fingerprints)
	return printTriage(env, out)
}

func runIPTriageFile(ctx context.Context, env *environment, o *ipTriageOptions, cfg responders.TriageConfig, since time.Time, sinceSet bool) error {
	out := triageOutput{Source: "stdin"}
	var r io.Reader = env.stdin
	if o.logsFile != "-" {
		f, err := os.Open(o.logsFile)
		if err != nil {
			return usagef("--logs-file: %v", err)
		}
		defer f.Close()
		if fi, err := f.Stat(); err == nil && fi.IsDir() {
			return usagef("--logs-file %s is a directory", auth0client.Clean(o.logsFile))
		}
		r, out.Source, out.File = f, "file", o.logsFile
	}
	if sinceSet {
		cfg.Since, out.Since = since, since
	}
	// A triage holds its population (addresses, accounts, their pairs),
	// whatever the size of the export; a soft memory limit keeps the
	// collector from letting the heap grow to twice that (measured on the
	// 1M-event benchmark export: peak RSS 354 MB without, about 250 MB
	// with). GOMEMLIMIT, when set, wins.
	if os.Getenv("GOMEMLIMIT") == "" {
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(triageMemoryLimit))
	}
	tr, stats, err := responders.TriageLogStream(ctx, r, cfg, responders.LogStreamOptions{Limit: int64(o.limit)})
	if err != nil {
		return err
	}
	out.Read, out.Limited = &stats, stats.Limited
	res, unresolved := tr.ResultAndUnresolvedNames()
	out.TriageResult, out.UnresolvedNames = res, len(unresolved)
	if stats.Malformed > 0 {
		nums := make([]string, len(stats.MalformedLines))
		for i, n := range stats.MalformedLines {
			nums[i] = strconv.FormatInt(n, 10)
		}
		more := ""
		if stats.Malformed > int64(len(nums)) {
			more = ", …"
		}
		fmt.Fprintf(env.stderr, "warning: %d malformed lines skipped (lines %s%s)\n", stats.Malformed, strings.Join(nums, ", "), more)
	}
	if out.UnresolvedNames > 0 {
		fmt.Fprintf(env.stderr, "note: %d user names were tried that no event ties to a user id (captcha failures, pwd_leak, limit_mu); a live triage looks them up in the tenant\n",
			out.UnresolvedNames)
	}
	fmt.Fprintf(env.stderr, "read %d events (%d lines) from %s\n", stats.Events, stats.Lines, out.Source)
	return printTriage(env, out)
}

// printTriage prints the result: JSON, or the address, network and account
// tables (TSV sections separated by a blank line when not on a terminal).
func printTriage(env *environment, out triageOutput) error {
	r := out.TriageResult
	flagged := 0
	for _, ip := range r.IPs {
		if ip.Flagged {
			flagged++
		}
	}
	fmt.Fprintf(env.stderr, "%d compromised, %d stopped by MFA, %d targeted; %s flagged; %s holding several of them\n",
		r.Compromised, r.StoppedByMFA, r.Targeted, nouns(flagged, "address", "addresses"), nouns(len(r.Clusters), "network", "networks"))
	if env.opts.json {
		return printTriageJSON(env.stdout, out)
	}
	tty := env.stdoutTTY
	ips := &table{header: []string{"rank", "ip", "score", "label", "failures", "accounts", "signed_in", "compromised", "country", "first_seen", "last_seen", "reason"}}
	for _, ip := range r.IPs {
		if ip.Label == responders.LabelNone {
			continue // ordinary traffic: in --json
		}
		ips.add(strconv.Itoa(ip.Rank), ip.IP, strconv.Itoa(ip.Score), string(ip.Label), strconv.FormatInt(ip.Failures+ip.AttackProtection, 10),
			strconv.Itoa(ip.AccountsTried), strconv.Itoa(ip.AccountsSucceeded), strconv.Itoa(len(ip.Compromised)), ip.Country,
			fmtTime(ip.FirstSeen), fmtTime(ip.LastSeen), strings.Join(ip.Reasons, "; "))
	}
	nets := &table{header: []string{"network", "score", "flagged", "addresses", "failures", "accounts", "shared", "reason"}}
	for _, c := range r.Clusters {
		nets.add(c.CIDR, strconv.Itoa(c.Score), strconv.Itoa(c.FlaggedAddresses), strconv.Itoa(c.Addresses),
			strconv.FormatInt(c.Failures+c.AttackProtection, 10), strconv.Itoa(c.AccountsTried), strings.Join(c.SharedAddresses, ","),
			strings.Join(c.Reasons, "; "))
	}
	accts := &table{header: []string{"verdict", "user_id", "user_name", "ips", "evidence", "reason"}}
	for _, a := range r.Accounts {
		accts.add(string(a.Verdict), a.UserID, a.UserName, strings.Join(a.IPs, ","), strconv.Itoa(len(a.Evidence)), strings.Join(a.Reasons, "; "))
	}
	for i, t := range []*table{ips, nets, accts} {
		if i > 0 {
			fmt.Fprintln(env.stdout)
		}
		if err := t.print(env.stdout, tty); err != nil {
			return err
		}
	}
	return nil
}

// printFingerprints says which TLS fingerprints the flagged addresses
// share, and whether 'ip contain --acl --fingerprint' may block them.
func printFingerprints(env *environment, fps []responders.FingerprintReport) {
	for _, f := range fps {
		verdict := "not blockable"
		if f.Blockable {
			verdict = "blockable (ip contain --acl --fingerprint " + f.Value + ")"
		}
		fmt.Fprintf(env.stderr, "fingerprint %s %s: %d flagged of %d addresses, %d events; %s: %s\n",
			f.Kind, auth0client.Clean(f.Value), f.Flagged, f.Addresses, f.Events, verdict, auth0client.Clean(f.Reason))
	}
}

// printTriageJSON prints out as printJSON does, streaming the addresses
// and accounts a block at a time: a triage of a large export holds
// hundreds of thousands of addresses, whose JSON would otherwise be built
// whole in memory before the first byte is written.
func printTriageJSON(w io.Writer, out triageOutput) error {
	ips, accts := out.IPs, out.Accounts
	out.IPs, out.Accounts = nil, nil
	head, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	bw := bufio.NewWriterSize(w, 256<<10)
	// An escaped string cannot hold `"ips": null` (its quotes would be
	// escaped): the first match is the field itself.
	bufs := make([][]byte, runtime.GOMAXPROCS(0))
	head, err = streamJSONArray(bw, bufs, head, `"ips": `, ips, appendTriageIP)
	if err == nil {
		head, err = streamJSONArray(bw, bufs, head, `"accounts": `, accts, appendTriageAccount)
	}
	if err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	bw.Write(head)
	bw.WriteString("\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}

// jsonBlock is how many elements of an array one goroutine writes at a
// time: the memory streamJSONArray holds is a block's JSON per core. A
// block's buffer starts with room for elements of jsonElementBytes (an
// account of a large export's triage takes ~700).
const (
	jsonBlock        = 512
	jsonElementBytes = 1024
)

// streamJSONArray writes head up to the null value of key, then list in
// its place (indented as a member of the top-level object), and returns
// what follows. The elements are written by appendElem (encoding/json for
// those it declines), a block per core at a time (each into its buffer of
// bufs, kept for the next call): a large export's triage lists tens of
// thousands of accounts.
func streamJSONArray[T any](bw *bufio.Writer, bufs [][]byte, head []byte, key string, list []T,
	appendElem func([]byte, *T) ([]byte, bool)) ([]byte, error) {
	i := bytes.Index(head, []byte(key+"null"))
	if i < 0 {
		return nil, fmt.Errorf("no %s field", key)
	}
	bw.Write(head[:i+len(key)])
	if len(list) == 0 {
		bw.WriteString("[]")
		return head[i+len(key)+len("null"):], nil
	}
	bw.WriteString("[")
	workers := len(bufs)
	errs := make([]error, workers)
	for from := 0; from < len(list); from += workers * jsonBlock {
		var wg sync.WaitGroup
		for w := range workers {
			lo := min(len(list), from+w*jsonBlock)
			hi := min(len(list), lo+jsonBlock)
			wg.Go(func() {
				b := bufs[w][:0]
				if need := (hi - lo) * jsonElementBytes; cap(b) < need {
					b = make([]byte, 0, need)
				}
				for j := lo; j < hi; j++ {
					if j > 0 {
						b = append(b, ',')
					}
					b = append(b, "\n    "...)
					n := len(b)
					var ok bool
					if b, ok = appendElem(b, &list[j]); !ok {
						if b, errs[w] = appendIndented(b[:n], &list[j]); errs[w] != nil {
							break
						}
					}
				}
				bufs[w] = b
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return nil, err
		}
		for _, b := range bufs {
			bw.Write(b)
		}
	}
	bw.WriteString("\n  ]")
	return head[i+len(key)+len("null"):], nil
}
