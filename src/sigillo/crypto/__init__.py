"""AES-256-GCM sealing bound to a secret's place, and the keyring that holds the keys."""
