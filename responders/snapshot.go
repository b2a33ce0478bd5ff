package responders

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/atoctl/atoctl/auth0client"
)

// Evidence is what the snapshot step saves into the incident before anything
// is destroyed: revoking sessions erases where the attacker came from.
type Evidence struct {
	TakenAt       time.Time                  `json:"taken_at"`
	User          auth0client.User           `json:"user"`
	Sessions      []auth0client.Session      `json:"sessions"`
	RefreshTokens []auth0client.RefreshToken `json:"refresh_tokens"`
	AuthMethods   []auth0client.AuthMethod   `json:"authentication_methods"`
	Logs          []auth0client.LogEvent     `json:"logs"`
	// Notes say what could not be read (a plan without sessions, say).
	Notes []string `json:"notes,omitempty"`
}

type snapshotStep struct{}

func (snapshotStep) Name() string { return StepSnapshot }

func (snapshotStep) Plan(_ context.Context, rc *Context, t *Target) (Plan, error) {
	if _, ok := rc.priorOutcome(t.User.ID, StepSnapshot); ok {
		return Plan{AlreadyDone: true, Reason: "evidence already saved in this incident"}, nil
	}
	return Plan{Reason: "save profile, sessions, refresh tokens, authentication methods and recent logs (reads only)"}, nil
}

// Apply reads; a snapshot writes nothing to the tenant, so dry-run takes it too.
func (snapshotStep) Apply(ctx context.Context, rc *Context, t *Target, _ Plan) error {
	c := rc.Client
	ev := Evidence{TakenAt: rc.Opts.now(), User: t.User, Logs: t.Logs}
	var err error
	lacking := false
	if ev.Sessions, err = c.Sessions(ctx, t.User.WriteID()); errors.Is(err, auth0client.ErrPlanLacksFeature) {
		ev.Notes = append(ev.Notes, "sessions not readable: the tenant's plan lacks the feature")
		lacking = true
	} else if err != nil {
		return err
	}
	if ev.RefreshTokens, err = c.RefreshTokens(ctx, t.User.WriteID()); errors.Is(err, auth0client.ErrPlanLacksFeature) {
		ev.Notes = append(ev.Notes, "refresh tokens not readable: the tenant's plan lacks the feature")
		lacking = true
	} else if err != nil {
		return err
	}
	if t.loaded {
		ev.AuthMethods = t.methods // read by Load in this run
	} else if ev.AuthMethods, err = c.AuthMethods(ctx, t.User.WriteID()); err != nil {
		return err
	}
	// Read while the user was already blocked (a bulk run blocks first), no
	// session or token can have appeared since: revoke plans from these.
	if t.userFresh && t.User.Blocked && !lacking {
		t.sessions, t.tokens, t.held = ev.Sessions, ev.RefreshTokens, true
	}
	t.evidence = mustJSON(ev)
	t.verified = fmt.Sprintf("saved %d sessions, %d refresh tokens, %d authentication methods, %d log events",
		len(ev.Sessions), len(ev.RefreshTokens), len(ev.AuthMethods), len(ev.Logs))
	return nil
}

func (snapshotStep) Verify(_ context.Context, _ *Context, t *Target) error {
	if len(t.evidence) == 0 {
		return errors.New("no evidence was taken")
	}
	return nil
}
