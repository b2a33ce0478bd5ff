package auth0client

import (
	"context"

	"github.com/auth0/go-auth0/management"
)

// DBConnection is a database connection and the applications enabled on
// it: a reset email must name one of them (client_id).
type DBConnection struct {
	ID, Name       string
	EnabledClients []string
}

// DatabaseConnections lists the tenant's database connections
// (GET /api/v2/connections?strategy=auth0; read:connections).
func (c *Client) DatabaseConnections(ctx context.Context) ([]DBConnection, error) {
	list, err := c.m.Connection.List(ctx, management.Parameter("strategy", "auth0"), management.PerPage(100))
	if err != nil {
		return nil, wrapErr("list database connections", err)
	}
	var out []DBConnection
	for _, conn := range list.Connections {
		d := DBConnection{ID: conn.GetID(), Name: conn.GetName()}
		if conn.EnabledClients != nil {
			d.EnabledClients = append(d.EnabledClients, *conn.EnabledClients...)
		}
		out = append(out, d)
	}
	return out, nil
}

// Application is one of the tenant's applications (clients).
type Application struct {
	ID, Name string
	// Type is Auth0's app_type: spa, regular_web, native, non_interactive
	// (machine to machine).
	Type string
}

// Interactive reports whether people sign in through the application: only
// those can send a reset email on a connection's behalf.
func (a Application) Interactive() bool { return a.Type != "non_interactive" }

// Applications lists the tenant's applications (GET /api/v2/clients;
// read:clients).
func (c *Client) Applications(ctx context.Context) ([]Application, error) {
	list, err := c.m.Client.List(ctx, management.IncludeFields("client_id", "name", "app_type"), management.PerPage(100))
	if err != nil {
		return nil, wrapErr("list applications", err)
	}
	var out []Application
	for _, a := range list.Clients {
		out = append(out, Application{ID: a.GetClientID(), Name: Clean(a.GetName()), Type: a.GetAppType()})
	}
	return out, nil
}
