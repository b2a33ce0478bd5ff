package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/atoctl/atoctl/eventstore"
	"github.com/atoctl/atoctl/responders"
)

// storeKey names the tenant's event store: its domain, or for training the
// scenario and the epoch of the exercise (a reset starts a new store).
func (env *environment) storeKey() (string, error) {
	if env.sandbox != nil {
		return fmt.Sprintf("training-%s-%d", env.sandbox.scenario.Name, env.sandbox.epoch.Unix()), nil
	}
	if env.client == nil {
		return "", fmt.Errorf("no tenant to name the event store after")
	}
	return env.client.Tenant(), nil
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
func (env *environment) events(ctx context.Context) (responders.EventSource, error) {
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
