package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/atoctl/atoctl/eventstore"
	"github.com/atoctl/atoctl/fixtures/sandbox"
	"github.com/atoctl/atoctl/responders"
)

// storeKey names the tenant's event store: its domain, or for training the
// scenario and the epoch of the exercise (a reset starts a new store).
func (env *environment) storeKey() (string, error) {
	if env.sandbox != nil {
		return trainingStoreKey(env.sandbox.scenario.Name, env.sandbox.epoch), nil
	}
	if env.client == nil {
		return "", fmt.Errorf("no tenant to name the event store after")
	}
	return env.client.Tenant(), nil
}

func trainingStoreKey(scenario string, epoch time.Time) string {
	return fmt.Sprintf("training-%s-%d", scenario, epoch.Unix())
}

// trainingStorePath is the training store of an exercise under way, known
// before its tenant is generated (the epoch is in the training state);
// false when no exercise is under way.
func (env *environment) trainingStorePath() (string, bool, error) {
	state, err := trainingStatePath(env.getenv, env.opts.scenario)
	if err != nil {
		return "", false, err
	}
	epoch, ok, err := sandbox.PersistedEpoch(state)
	if err != nil {
		return "", false, fmt.Errorf("read training state %s: %w (run 'atoctl training reset' to start over)", state, err)
	}
	if !ok {
		return "", false, nil
	}
	path, err := eventstore.DefaultPath(env.getenv, trainingStoreKey(env.opts.scenario, epoch))
	if err != nil {
		return "", false, usagef("%v", err)
	}
	return path, true, nil
}

// eventStore opens the tenant's event store (once per invocation).
func (env *environment) eventStore(ctx context.Context) (*eventstore.Store, error) {
	if env.store != nil {
		return env.store, nil
	}
	if _, err := env.tenant(ctx); err != nil {
		return nil, err
	}
	path, err := env.storePath()
	if err != nil {
		return nil, err
	}
	env.store, err = eventstore.Open(ctx, path)
	return env.store, err
}

// events is where the views read the tenant's events: once the tenant has
// a local store ('logs sync', 'logs receive' or the console made it), the
// store, synced first for what the window misses; before that, or with
// --no-store, the Management API.
//
// A training exercise with a store is read without waiting for its tenant
// (generating it takes most of a second): the tenant is built when the
// view first needs it (a sync, a user-name look-up), or, with background,
// at once beside the store read, for a view that needs it anyway (detect
// reads sessions, ip contain plans against the tenant).
func (env *environment) events(ctx context.Context, background bool) (responders.EventSource, error) {
	if src, ok, err := env.trainingEvents(ctx, background); ok || err != nil {
		return src, err
	}
	c, err := env.tenant(ctx)
	if err != nil {
		return responders.EventSource{}, err
	}
	if env.opts.noStore {
		return responders.APIEvents(c), nil
	}
	if env.store == nil {
		path, err := env.storePath()
		if err != nil {
			return responders.EventSource{}, err
		}
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return responders.APIEvents(c), nil
		}
	}
	st, err := env.eventStore(ctx)
	if err != nil {
		return responders.EventSource{}, err
	}
	return responders.EventSource{Client: c, Store: st, Fill: true}, nil
}

// trainingEvents is events for a training exercise that has a store: the
// store opened at once, the tenant built on first need or in the
// background (false: no such store, use events' path).
func (env *environment) trainingEvents(ctx context.Context, background bool) (responders.EventSource, bool, error) {
	if !env.opts.training || env.opts.noStore || env.client != nil || env.store != nil {
		return responders.EventSource{}, false, nil
	}
	if _, err := lookupScenario(env.opts.scenario); err != nil {
		return responders.EventSource{}, false, err
	}
	path, ok, err := env.trainingStorePath()
	if err != nil || !ok {
		return responders.EventSource{}, false, err
	}
	if _, err := os.Stat(path); err != nil {
		return responders.EventSource{}, false, nil
	}
	if background {
		env.startTenant(ctx)
	}
	st, err := eventstore.Open(ctx, path)
	if err != nil {
		return responders.EventSource{}, false, err
	}
	env.store = st
	fmt.Fprintf(env.stderr, "TRAINING: scenario %s (events from its local store; nothing real is touched)\n", env.opts.scenario)
	env.bannerShown = true
	return responders.EventSource{Store: st, Fill: true, Tenant: env.tenant}, true, nil
}

// storePath is where the tenant's store lives (the tenant must be built).
func (env *environment) storePath() (string, error) {
	key, err := env.storeKey()
	if err != nil {
		return "", err
	}
	path, err := eventstore.DefaultPath(env.getenv, key)
	if err != nil {
		return "", usagef("%v", err)
	}
	return path, nil
}

func (env *environment) closeStore() {
	if env.store != nil {
		_ = env.store.Close()
		env.store = nil
	}
}

// removeTrainingStores deletes a scenario's event stores (training reset:
// the next exercise has new events).
func removeTrainingStores(getenv func(string) string, scenario string) error {
	path, err := eventstore.DefaultPath(getenv, "training-"+scenario+"-0")
	if err != nil {
		return err
	}
	matches, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "training-"+strings.ToLower(scenario)+"-*.db*"))
	for _, m := range matches {
		if err := os.Remove(m); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}
