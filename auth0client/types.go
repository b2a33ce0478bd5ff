package auth0client

import (
	"encoding/json"
	"time"

	"github.com/auth0/go-auth0/management"
)

// User is a tenant user in atoctl's words. Every string that came from the
// tenant is cleaned (see Clean); IdP access tokens that Auth0 may include in
// identities are never copied.
type User struct {
	ID            string         `json:"user_id"`
	Email         string         `json:"email,omitempty"`
	EmailVerified bool           `json:"email_verified"`
	Username      string         `json:"username,omitempty"`
	PhoneNumber   string         `json:"phone_number,omitempty"`
	Name          string         `json:"name,omitempty"`
	Nickname      string         `json:"nickname,omitempty"`
	Blocked       bool           `json:"blocked"`
	CreatedAt     time.Time      `json:"created_at"`
	UpdatedAt     time.Time      `json:"updated_at"`
	LastLogin     time.Time      `json:"last_login,omitzero"`
	LastIP        string         `json:"last_ip,omitempty"`
	LoginsCount   int64          `json:"logins_count"`
	Identities    []Identity     `json:"identities"`
	Multifactor   []string       `json:"multifactor,omitempty"`
	AppMetadata   map[string]any `json:"app_metadata,omitempty"`
	// Key holds what atoctl writes and looks up with, exactly as the tenant
	// holds it; the fields above are the cleaned forms, for display only.
	Key UserKey `json:"-"`
}

// Raw is tenant text exactly as the tenant holds it: what a write must
// send (a hostile email cleaned for display names another address). It
// prints, and marshals, cleaned, so it cannot reach a terminal raw by
// accident; string(r) is the raw value, for requests only.
type Raw string

// String is the text cleaned for display.
func (r Raw) String() string { return Clean(string(r)) }

// MarshalJSON writes the cleaned text.
func (r Raw) MarshalJSON() ([]byte, error) { return json.Marshal(Clean(string(r))) }

// UserKey is a user's identifiers as the tenant holds them, for writes.
type UserKey struct {
	ID, Email Raw
	// Connection is the user's database connection ("" when none).
	Connection Raw
}

// WriteID is the user id to put in a request path: the tenant's own, or
// (for a user built from an id the analyst typed) ID.
func (u User) WriteID() string {
	if u.Key.ID != "" {
		return string(u.Key.ID)
	}
	return u.ID
}

// Identity is one identity linked to a user.
type Identity struct {
	Connection string `json:"connection"`
	Provider   string `json:"provider"`
	UserID     string `json:"user_id"`
	IsSocial   bool   `json:"is_social"`
}

// HasDatabaseIdentity reports whether the user can receive a password reset
// (only database-connection identities have a password).
func (u User) HasDatabaseIdentity() bool { return u.DatabaseConnection() != "" }

// DatabaseConnection names the user's database connection, or "".
func (u User) DatabaseConnection() string {
	for _, id := range u.Identities {
		if id.Provider == "auth0" {
			return id.Connection
		}
	}
	return ""
}

// LogEvent is one tenant log event. Location fields are flattened from
// location_info; Details keeps Auth0's free-form details, cleaned.
type LogEvent struct {
	ID          string         `json:"log_id"`
	Date        time.Time      `json:"date"`
	Type        string         `json:"type"`
	Description string         `json:"description,omitempty"`
	IP          string         `json:"ip,omitempty"`
	UserID      string         `json:"user_id,omitempty"`
	UserName    string         `json:"user_name,omitempty"`
	ClientID    string         `json:"client_id,omitempty"`
	ClientName  string         `json:"client_name,omitempty"`
	Connection  string         `json:"connection,omitempty"`
	UserAgent   string         `json:"user_agent,omitempty"`
	Hostname    string         `json:"hostname,omitempty"`
	IsMobile    bool           `json:"is_mobile,omitempty"`
	Country     string         `json:"country,omitempty"`
	City        string         `json:"city,omitempty"`
	Details     map[string]any `json:"details,omitempty"`
	// JA3 and JA4 are the client's TLS fingerprints (security_context).
	JA3 string `json:"ja3,omitempty"`
	JA4 string `json:"ja4,omitempty"`
}

// Session is a user's login session (Enterprise plans).
type Session struct {
	ID               string    `json:"id"`
	UserID           string    `json:"user_id"`
	CreatedAt        time.Time `json:"created_at"`
	UpdatedAt        time.Time `json:"updated_at,omitzero"`
	AuthenticatedAt  time.Time `json:"authenticated_at,omitzero"`
	LastInteractedAt time.Time `json:"last_interacted_at,omitzero"`
	ExpiresAt        time.Time `json:"expires_at,omitzero"`
	IdleExpiresAt    time.Time `json:"idle_expires_at,omitzero"`
	Device           Device    `json:"device"`
	ClientIDs        []string  `json:"client_ids,omitempty"`
	AuthMethods      []string  `json:"auth_methods,omitempty"`
}

// Device is where a session or refresh token was first and last used.
type Device struct {
	InitialIP        string `json:"initial_ip,omitempty"`
	InitialASN       string `json:"initial_asn,omitempty"`
	InitialUserAgent string `json:"initial_user_agent,omitempty"`
	LastIP           string `json:"last_ip,omitempty"`
	LastASN          string `json:"last_asn,omitempty"`
	LastUserAgent    string `json:"last_user_agent,omitempty"`
}

// ASNChanged reports a session or token that moved networks after it was
// created: a sign of a stolen cookie or token replayed elsewhere.
func (d Device) ASNChanged() bool {
	return d.InitialASN != "" && d.LastASN != "" && d.InitialASN != d.LastASN
}

// RefreshToken is a user's refresh token (Enterprise plans).
type RefreshToken struct {
	ID              string    `json:"id"`
	UserID          string    `json:"user_id"`
	ClientID        string    `json:"client_id"`
	SessionID       string    `json:"session_id,omitempty"`
	CreatedAt       time.Time `json:"created_at"`
	ExpiresAt       time.Time `json:"expires_at,omitzero"`
	IdleExpiresAt   time.Time `json:"idle_expires_at,omitzero"`
	LastExchangedAt time.Time `json:"last_exchanged_at,omitzero"`
	Rotating        bool      `json:"rotating"`
	Device          Device    `json:"device"`
	Audiences       []string  `json:"audiences,omitempty"`
}

// AuthMethod is an enrolled authentication method (password, MFA factor, passkey).
type AuthMethod struct {
	ID         string    `json:"id"`
	Type       string    `json:"type"`
	Name       string    `json:"name,omitempty"`
	Confirmed  bool      `json:"confirmed"`
	Phone      string    `json:"phone_number,omitempty"`
	Email      string    `json:"email,omitempty"`
	CreatedAt  time.Time `json:"created_at,omitzero"`
	EnrolledAt time.Time `json:"enrolled_at,omitzero"`
	LastAuthAt time.Time `json:"last_auth_at,omitzero"`
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return Clean(*p)
}

func tm(p *time.Time) time.Time {
	if p == nil {
		return time.Time{}
	}
	return p.UTC()
}

// stm parses the string timestamps Auth0 sends for sessions.
func stm(p *string) time.Time {
	if p == nil {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, *p)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

func userFrom(u *management.User) User {
	out := User{
		ID:          str(u.ID),
		Email:       str(u.Email),
		Username:    str(u.Username),
		PhoneNumber: str(u.PhoneNumber),
		Name:        str(u.Name),
		Nickname:    str(u.Nickname),
		Blocked:     u.GetBlocked(),
		CreatedAt:   tm(u.CreatedAt),
		UpdatedAt:   tm(u.UpdatedAt),
		LastLogin:   tm(u.LastLogin),
		LastIP:      str(u.LastIP),
		LoginsCount: u.GetLoginsCount(),
	}
	out.EmailVerified = u.GetEmailVerified()
	out.Key = UserKey{ID: Raw(u.GetID()), Email: Raw(u.GetEmail())}
	for _, id := range u.Identities {
		if id == nil {
			continue
		}
		if id.GetProvider() == "auth0" && out.Key.Connection == "" {
			out.Key.Connection = Raw(id.GetConnection())
		}
		out.Identities = append(out.Identities, Identity{
			Connection: str(id.Connection),
			Provider:   str(id.Provider),
			UserID:     str(id.UserID),
			IsSocial:   id.GetIsSocial(),
		})
	}
	if u.Multifactor != nil {
		for _, f := range *u.Multifactor {
			out.Multifactor = append(out.Multifactor, Clean(f))
		}
	}
	if u.AppMetadata != nil {
		if m, ok := cleanAny(*u.AppMetadata).(map[string]any); ok {
			out.AppMetadata = m
		}
	}
	return out
}

func logFrom(l *management.Log) LogEvent {
	e := LogEvent{
		ID:          str(l.LogID),
		Date:        tm(l.Date),
		Type:        str(l.Type),
		Description: str(l.Description),
		IP:          str(l.IP),
		UserID:      str(l.UserID),
		UserName:    str(l.UserName),
		ClientID:    str(l.ClientID),
		ClientName:  str(l.ClientName),
		Connection:  str(l.Connection),
		UserAgent:   str(l.UserAgent),
		Hostname:    str(l.Hostname),
		IsMobile:    l.GetIsMobile(),
	}
	if l.LocationInfo != nil {
		e.Country, _ = l.LocationInfo["country_code"].(string)
		e.City, _ = l.LocationInfo["city_name"].(string)
		e.Country, e.City = Clean(e.Country), Clean(e.City)
	}
	if l.Details != nil {
		if m, ok := cleanAny(l.Details).(map[string]any); ok {
			e.Details = m
		}
	}
	return e
}

func deviceFromSession(d *management.UserSessionDevice) Device {
	if d == nil {
		return Device{}
	}
	return Device{
		InitialIP: str(d.InitialIP), InitialASN: str(d.InitialASN), InitialUserAgent: str(d.InitialUserAgent),
		LastIP: str(d.LastIP), LastASN: str(d.LastASN), LastUserAgent: str(d.LastUserAgent),
	}
}

func sessionFrom(s *management.UserSession) Session {
	out := Session{
		ID:               str(s.ID),
		UserID:           str(s.UserID),
		CreatedAt:        stm(s.CreatedAt),
		UpdatedAt:        stm(s.UpdatedAt),
		AuthenticatedAt:  stm(s.AuthenticatedAt),
		LastInteractedAt: stm(s.LastInteractedAt),
		ExpiresAt:        stm(s.ExpiresAt),
		IdleExpiresAt:    stm(s.IdleExpiresAt),
		Device:           deviceFromSession(s.Device),
	}
	for _, c := range s.Clients {
		if c != nil {
			out.ClientIDs = append(out.ClientIDs, str(c.ClientID))
		}
	}
	if s.Authentication != nil {
		for _, m := range s.Authentication.Methods {
			if m != nil {
				out.AuthMethods = append(out.AuthMethods, str(m.Name))
			}
		}
	}
	return out
}

func tokenFrom(t *management.RefreshToken) RefreshToken {
	out := RefreshToken{
		ID:              str(t.ID),
		UserID:          str(t.UserID),
		ClientID:        str(t.ClientID),
		SessionID:       str(t.SessionID),
		CreatedAt:       tm(t.CreatedAt),
		ExpiresAt:       tm(t.ExpiresAt),
		IdleExpiresAt:   tm(t.IdleExpiresAt),
		LastExchangedAt: stm(t.LastExchangedAt),
		Rotating:        t.GetRotating(),
	}
	if d := t.Device; d != nil {
		out.Device = Device{
			InitialIP: str(d.InitialIP), InitialASN: str(d.InitialASN), InitialUserAgent: str(d.InitialUserAgent),
			LastIP: str(d.LastIP), LastASN: str(d.LastASN), LastUserAgent: str(d.LastUserAgent),
		}
	}
	for _, rs := range t.ResourceServer {
		if rs != nil {
			out.Audiences = append(out.Audiences, str(rs.Audience))
		}
	}
	return out
}

func authMethodFrom(a *management.AuthenticationMethod) AuthMethod {
	return AuthMethod{
		ID:         str(a.ID),
		Type:       str(a.Type),
		Name:       str(a.Name),
		Confirmed:  a.GetConfirmed(),
		Phone:      str(a.PhoneNumber),
		Email:      str(a.Email),
		CreatedAt:  tm(a.CreatedAt),
		EnrolledAt: tm(a.EnrolledAt),
		LastAuthAt: tm(a.LastAuthedAt),
	}
}
