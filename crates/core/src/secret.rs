//! Passwords in the OS keyring, and nowhere else.
//!
//! Service `tenant-console`, account = the profile id: Secret Service on Linux, Keychain on macOS, Credential
//! Manager on Windows (keyring 3, sync stores). Every keyring call blocks (an unlock prompt waits for a person),
//! so [`Secrets`] runs them on the blocking pool, and [`Keyring`] makes them one at a time in this process (the
//! Secret Service misbehaves under concurrent access). A keyring build without a persistent store silently keeps
//! secrets in memory only; [`Keyring::open`] checks for that and refuses, so a password can never vanish at exit
//! unnoticed. Secrets travel as [`SecretString`], which never prints its value; keyring failures are logged
//! with their detail (never a secret) and reach the user as a [`SecretError`] that says what to do.

use std::sync::{Arc, Mutex};

pub use crate::error::SecretError;

use secrecy::{ExposeSecret, SecretString};

/// The keyring service name under which every profile's password is stored.
pub const SERVICE: &str = "tenant-console";

/// A place to keep secrets: the real keyring, or memory for unit tests.
pub trait SecretStore: Send + Sync + 'static {
    fn set(&self, account: &str, secret: &SecretString) -> Result<(), SecretError>;
    fn get(&self, account: &str) -> Result<SecretString, SecretError>;
    /// Deleting a secret that is not there is not an error.
    fn delete(&self, account: &str) -> Result<(), SecretError>;
}

/// The OS keyring.
pub struct Keyring {
    _private: (),
}

impl Keyring {
    /// The OS keyring, after checking that it keeps secrets beyond this process.
    pub fn open() -> Result<Self, SecretError> {
        use keyring::credential::CredentialPersistence as P;
        match keyring::default::default_credential_builder().persistence() {
            P::ProcessOnly | P::EntryOnly => Err(SecretError::NotPersistent),
            _ => Ok(Keyring { _private: () }),
        }
    }

    /// Runs one keyring call, one at a time in this process (across every `Keyring` and thread).
    fn call<T>(
        account: &str,
        f: impl FnOnce(keyring::Entry) -> keyring::Result<T>,
    ) -> Result<T, SecretError> {
        static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
        let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
        let entry = keyring::Entry::new(SERVICE, account).map_err(|e| map_err(e, account))?;
        f(entry).map_err(|e| map_err(e, account))
    }
}

fn map_err(e: keyring::Error, account: &str) -> SecretError {
    match e {
        keyring::Error::NoEntry => SecretError::Missing(account.to_owned()),
        keyring::Error::NoStorageAccess(inner) | keyring::Error::PlatformFailure(inner) => {
            tracing::warn!(error = %inner, account, "system keyring unavailable");
            SecretError::Unavailable
        }
        other => {
            tracing::warn!(error = %other, account, "system keyring failure");
            SecretError::Other
        }
    }
}

impl SecretStore for Keyring {
    fn set(&self, account: &str, secret: &SecretString) -> Result<(), SecretError> {
        Self::call(account, |e| e.set_password(secret.expose_secret()))
    }

    fn get(&self, account: &str) -> Result<SecretString, SecretError> {
        Self::call(account, |e| e.get_password().map(SecretString::from))
    }

    fn delete(&self, account: &str) -> Result<(), SecretError> {
        Self::call(account, |e| match e.delete_credential() {
            Err(keyring::Error::NoEntry) => Ok(()),
            other => other,
        })
    }
}

/// An in-memory store, for unit tests that are not about the keyring.
#[derive(Default)]
pub struct MemoryStore {
    items: Mutex<std::collections::HashMap<String, String>>,
}

impl SecretStore for MemoryStore {
    fn set(&self, account: &str, secret: &SecretString) -> Result<(), SecretError> {
        self.items
            .lock()
            .expect("not poisoned")
            .insert(account.to_owned(), secret.expose_secret().to_owned());
        Ok(())
    }
    fn get(&self, account: &str) -> Result<SecretString, SecretError> {
        self.items
            .lock()
            .expect("not poisoned")
            .get(account)
            .map(|s| SecretString::from(s.clone()))
            .ok_or_else(|| SecretError::Missing(account.to_owned()))
    }
    fn delete(&self, account: &str) -> Result<(), SecretError> {
        self.items.lock().expect("not poisoned").remove(account);
        Ok(())
    }
}

/// Async access to a secret store: every call on the blocking pool, never on an async worker thread.
#[derive(Clone)]
pub struct Secrets {
    store: Arc<dyn SecretStore>,
}

impl Secrets {
    /// Wraps a store.
    pub fn new(store: impl SecretStore) -> Self {
        Secrets {
            store: Arc::new(store),
        }
    }

    /// The OS keyring, checked for persistence.
    pub fn system() -> Result<Self, SecretError> {
        Ok(Self::new(Keyring::open()?))
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn SecretStore) -> Result<T, SecretError> + Send + 'static,
    ) -> Result<T, SecretError> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(store.as_ref()))
            .await
            .unwrap_or_else(|_| Err(SecretError::Other))
    }

    /// Stores the password of a profile.
    pub async fn set(&self, account: &str, secret: SecretString) -> Result<(), SecretError> {
        let account = account.to_owned();
        self.run(move |s| s.set(&account, &secret)).await
    }

    /// Reads the password of a profile.
    pub async fn get(&self, account: &str) -> Result<SecretString, SecretError> {
        let account = account.to_owned();
        self.run(move |s| s.get(&account)).await
    }

    /// Stores `secret` bound to `identity` (what it was given for: a server, database, user, TLS, route).
    pub async fn set_bound(
        &self,
        account: &str,
        identity: &str,
        secret: SecretString,
    ) -> Result<(), SecretError> {
        let value = zeroize::Zeroizing::new(
            serde_json::json!({"v": 1, "for": identity, "password": secret.expose_secret()})
                .to_string(),
        );
        self.set(account, SecretString::from(value.as_str())).await
    }

    /// Reads the secret stored under `account` only when it was bound to `identity`; a secret bound to
    /// another, or stored unbound by an older version, is [`SecretError::OtherServer`]: never returned.
    pub async fn get_bound(
        &self,
        account: &str,
        identity: &str,
    ) -> Result<SecretString, SecretError> {
        #[derive(serde::Deserialize)]
        struct Bound<'a> {
            v: u32,
            #[serde(rename = "for")]
            identity: String,
            // Borrowed from the keyring's value where it can be; an unescaped copy is wiped below.
            #[serde(borrow)]
            password: std::borrow::Cow<'a, str>,
        }
        let raw = self.get(account).await?;
        let result = match serde_json::from_str::<Bound>(raw.expose_secret()) {
            Ok(b) if b.v == 1 && b.identity == identity => {
                let pw = SecretString::from(b.password.as_ref());
                if let std::borrow::Cow::Owned(mut copy) = b.password {
                    zeroize::Zeroize::zeroize(&mut copy);
                }
                Ok(pw)
            }
            _ => Err(SecretError::OtherServer(account.to_owned())),
        };
        result
    }

    /// Whether a password is stored for a profile: `None` when the keyring cannot say (locked, unavailable).
    pub async fn has_password(&self, account: &str) -> Option<bool> {
        match self.get(account).await {
            Ok(_) => Some(true),
            Err(SecretError::Missing(_)) => Some(false),
            Err(_) => None,
        }
    }

    /// Deletes the password of a profile (absent is fine).
    pub async fn delete(&self, account: &str) -> Result<(), SecretError> {
        let account = account.to_owned();
        self.run(move |s| s.delete(&account)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_missing_secret_asks_for_the_password_again() {
        let s = Secrets::new(MemoryStore::default());
        let e = s.get("p1").await.unwrap_err();
        assert_eq!(e.kind(), "secret_missing");
        assert!(e.to_string().contains("\"p1\""), "{e}");
        assert!(!e.to_string().contains("tenantctl"), "{e}");
    }

    #[tokio::test]
    async fn a_bound_secret_is_given_only_for_the_identity_it_was_stored_for() {
        let s = Secrets::new(MemoryStore::default());
        s.set_bound(
            "p1",
            "postgres://u@db:5432/app",
            "pw\"with:json".to_owned().into(),
        )
        .await
        .unwrap();
        let pw = s.get_bound("p1", "postgres://u@db:5432/app").await.unwrap();
        assert_eq!(pw.expose_secret(), "pw\"with:json");
        let e = s
            .get_bound("p1", "postgres://u@evil:5434/app")
            .await
            .unwrap_err();
        assert_eq!(e.kind(), "secret_missing");
        assert!(e.to_string().contains("another server"), "{e}");
        // A password an older version stored unbound is not sent anywhere: it is asked again.
        s.set("p2", "plain".to_owned().into()).await.unwrap();
        assert!(s.get_bound("p2", "anything").await.is_err());
    }

    #[tokio::test]
    async fn deleting_an_absent_secret_is_fine() {
        let s = Secrets::new(MemoryStore::default());
        s.set("p1", "pw".to_owned().into()).await.unwrap();
        s.delete("p1").await.unwrap();
        s.delete("p1").await.unwrap();
        assert!(s.get("p1").await.is_err());
    }
}
