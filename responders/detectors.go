package responders

// otherDetectors are the detectors beside credential stuffing (which the
// triage is), one file each.
func otherDetectors() []Detector {
	return []Detector{NewMFABombingDetector(), NewBreachedPasswordDetector(), NewTokenTheftDetector(), NewSessionHijackDetector(), NewSignupFraudDetector()}
}
