"""consent: who may see what — beneficiaries (pseudonymous), grants, exclusions, decisions."""
