package auth0client

// KnownEventType reports whether code is an Auth0 log event type code (f,
// fp, s, limit_wc, …): the codes Auth0 documents at
// https://auth0.com/docs/deploy-monitor/logs/log-event-type-codes, plus
// older ones that exported logs still hold. A filter on any other code
// matches nothing, so a mistyped --type would read as "no such events",
// which in an incident is a wrong answer. Codes are case-sensitive.
func KnownEventType(code string) bool {
	switch code {
	// Logins, signups, logouts and silent auth.
	case "s", "f", "fp", "fu", "fc", "fco", "fcoa", "scoa", "fens", "w", "wn", "wum":
		return true
	case "ss", "fs", "slo", "flo", "ssa", "fsa", "scv", "pla", "mfar":
		return true
	case "si", "fi", "cls", "cs", "sv", "fv", "svr", "fvr", "fn":
		return true
	// Token exchanges.
	case "seacft", "feacft", "seccft", "feccft", "sede", "fede", "sens":
		return true
	case "seoobft", "feoobft", "seotpft", "feotpft", "sepft", "fepft", "fepotpft":
		return true
	case "sercft", "fercft", "sertft", "fertft", "ferrt", "srrt":
		return true
	case "sepkoobft", "sepkotpft", "sepkrcft", "secte", "fecte", "seta", "feta":
		return true
	case "success_on_behalf_of_token_exchange", "failed_on_behalf_of_token_exchange":
		return true
	case "idjag_exchange_succeeded", "idjag_exchange_failed", "jwt_bearer_exchange_failed":
		return true
	case "ciba_exchange_succeeded", "ciba_exchange_failed", "ciba_start_succeeded", "ciba_start_failed":
		return true
	case "fpar", "fdeac", "fdeaz", "fdecc", "sd", "fd":
		return true
	// Account changes.
	case "sce", "fce", "scp", "fcp", "scph", "fcph", "scpn", "fcpn", "scpr", "fcpr", "scu", "fcu":
		return true
	case "du", "sdu", "fdu", "sui", "fui", "fpurh", "ublkdu", "too_many_records":
		return true
	case "organization_member_added":
		return true
	case "my_account_authentication_method_succeeded", "my_account_authentication_method_failed":
		return true
	case "connected_accounts_connection_succeeded", "connected_accounts_connection_failed":
		return true
	case "connected_accounts_delete_succeeded", "connected_accounts_delete_failed":
		return true
	case "passkey_challenge_started", "passkey_challenge_failed":
		return true
	// Attack protection and rate limits.
	case "limit_wc", "limit_mu", "limit_sul", "limit_ui", "limit_delegation":
		return true
	case "pwd_leak", "reset_pwd_leak", "signup_pwd_leak":
		return true
	case "api_limit", "api_limit_warning", "appi", "acls_summary":
		return true
	// MFA (Guardian).
	case "gd_auth_failed", "gd_auth_rejected", "gd_auth_succeed", "gd_enrollment_complete":
		return true
	case "gd_otp_rate_limit_exceed", "gd_recovery_failed", "gd_recovery_rate_limit_exceed", "gd_recovery_succeed":
		return true
	case "gd_send_email", "gd_send_pn", "gd_send_pn_failure", "gd_send_sms", "gd_send_sms_failure":
		return true
	case "gd_send_voice", "gd_send_voice_failure", "gd_start_auth", "gd_start_enroll", "gd_start_enroll_failed":
		return true
	case "gd_tenant_update", "gd_unenroll", "gd_update_device_account":
		return true
	case "gd_webauthn_challenge_failed", "gd_webauthn_enrollment_failed":
		return true
	case "gd_auth_email_verification", "gd_auth_fail_email_verification":
		return true
	case "gd_send_email_verification", "gd_send_email_verification_failure":
		return true
	// Logout protocols.
	case "oidc_backchannel_logout_succeeded", "oidc_backchannel_logout_failed":
		return true
	case "universal_logout_succeeded", "universal_logout_failed", "federated_logout_failed":
		return true
	// Management API, extensibility and the tenant itself.
	case "sapi", "fapi", "mgmt_api_read", "depnote", "resource_cleanup":
		return true
	case "actions_execution_failed", "flows_execution_completed", "flows_execution_failed":
		return true
	case "forms_submission_succeeded", "forms_submission_failed", "rich_consents_access_error", "acul_sdk_notice":
		return true
	case "sscim", "ss_sso_success", "ss_sso_failure", "ss_sso_info":
		return true
	case "directory_sync_started", "directory_sync_completed", "directory_sync_failed":
		return true
	case "custom_domain_verification_failed":
		return true
	case "kms_key_management_success", "kms_key_management_failure", "kms_key_state_changed":
		return true
	case "con", "coff", "fcpro":
		return true
	case "admin_update_launch", "sys_os_update_start", "sys_os_update_end", "sys_update_start", "sys_update_end":
		return true
	}
	return false
}
