package responders

import (
	"errors"
	"slices"
	"testing"
)

// atoctl never sends Auth0 a log query naming a field its log search does
// not search: Auth0 would refuse it with a 400 mid-incident.
func TestCheckLogQueryNamesUnsearchableFields(t *testing.T) {
	tests := []struct {
		q    string
		want []string
	}{
		{``, nil},
		{`type:f`, nil},
		{`type:(f OR fp) AND ip:"203.0.113.7" AND user_id:"auth0|abc"`, nil},
		{`date:[2024-01-01T00:00:00Z TO 2024-01-02T00:00:00Z] AND ip:2001:db8::1`, nil},
		{`description:"details.x:y" OR user_name:*@example.com`, nil},
		{`limit_wc`, nil}, // a bare term
		{`details.error.message:wrong*`, []string{"details.error.message"}},
		{`type:f AND location_info.country_code:RU`, []string{"location_info.country_code"}},
		{`isMobile:true OR audience:x OR scope:openid`, []string{"isMobile", "audience", "scope"}},
		{`-details.x:1 AND NOT user_email:a`, []string{"details.x", "user_email"}},
		{`(type:f AND (details.x:1))`, []string{"details.x"}},
		{`_exists_:details.x`, []string{"details.x"}},
		{`_exists_:user_id`, nil},
	}
	for _, tt := range tests {
		got := unsearchableLogFields(tt.q)
		if !slices.Equal(got, tt.want) {
			t.Errorf("unsearchableLogFields(%q) = %q, want %q", tt.q, got, tt.want)
		}
		err := CheckLogQuery(tt.q)
		if (err != nil) != (len(tt.want) > 0) || (err != nil && !errors.Is(err, ErrUnsearchableLogField)) {
			t.Errorf("CheckLogQuery(%q) = %v", tt.q, err)
		}
	}
}
