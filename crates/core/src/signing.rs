//! The export signing key: an Ed25519 key made on first use and kept in the OS keyring only (never in a file, a
//! log line or a message), which signs every export's manifest. Its public key, printed as `ed25519:<base64>`
//! with a SHA-256 fingerprint, is what an auditor is given to check a file with `tenantctl verify`.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result, SecretError};
use crate::secret::Secrets;

/// The keyring account of the signing key (beside the profiles' passwords, under the same service).
pub const KEY_ACCOUNT: &str = "export-signing-key";

/// The signing key, loaded from the keyring. Not `Debug`, not `Clone`, not serialisable.
pub struct SigningIdentity {
    key: SigningKey,
}

impl SigningIdentity {
    /// The key in the keyring, made and stored there first when there is none.
    pub async fn load_or_create(secrets: &Secrets) -> Result<Self> {
        if let Some(found) = Self::load(secrets).await? {
            return Ok(found);
        }
        let mut seed = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut seed);
        secrets
            .set(KEY_ACCOUNT, SecretString::from(B64.encode(seed)))
            .await?;
        seed.fill(0);
        // Read back what the keyring holds: another process may have stored its key at the same moment.
        Self::load(secrets)
            .await?
            .ok_or(Error::Keyring(SecretError::Other))
    }

    /// The key in the keyring, if there is one.
    pub async fn load(secrets: &Secrets) -> Result<Option<Self>> {
        match secrets.get(KEY_ACCOUNT).await {
            Ok(stored) => {
                let bytes = B64
                    .decode(stored.expose_secret().trim())
                    .ok()
                    .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
                    .ok_or_else(|| {
                        Error::InvalidInput(format!(
                            "the signing key in the system keyring (account {KEY_ACCOUNT:?}) is not an Ed25519 key"
                        ))
                    })?;
                Ok(Some(SigningIdentity {
                    key: SigningKey::from_bytes(&bytes),
                }))
            }
            Err(SecretError::Missing(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The public key a verification trusts when none is named: this machine's, when its keyring has one
    /// (never made here: verifying writes nothing; a locked keyring or an unreadable key is no key).
    pub async fn own_public_key(secrets: &Secrets) -> Option<PublicKey> {
        Self::load(secrets)
            .await
            .ok()
            .flatten()
            .map(|k| k.public_key())
    }

    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.key.verifying_key())
    }

    /// The signature of `message`, in base64.
    pub fn sign(&self, message: &[u8]) -> String {
        B64.encode(self.key.sign(message).to_bytes())
    }
}

impl std::fmt::Debug for SigningIdentity {
    /// The public half only: the secret never reaches a log line or a message.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningIdentity({})", self.public_key().fingerprint())
    }
}

/// An Ed25519 public key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    /// `ed25519:<base64 of the 32 key bytes>`.
    pub fn to_text(&self) -> String {
        format!("ed25519:{}", B64.encode(self.0.as_bytes()))
    }

    /// `SHA256:<base64 of the SHA-256 of the key bytes>` (as OpenSSH prints fingerprints).
    pub fn fingerprint(&self) -> String {
        let digest = Sha256::digest(self.0.as_bytes());
        format!(
            "SHA256:{}",
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(digest)
        )
    }

    /// Parses `ed25519:<base64>` (or the bare base64).
    pub fn parse(text: &str) -> Result<Self> {
        let bad = || {
            Error::InvalidInput(
                "not an Ed25519 public key: expected ed25519:<base64 of 32 bytes>, as `tenantctl signing-key show` prints it".into(),
            )
        };
        let b64 = text.trim();
        let b64 = b64.strip_prefix("ed25519:").unwrap_or(b64);
        let bytes = B64.decode(b64).map_err(|_| bad())?;
        let bytes = <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| bad())?;
        VerifyingKey::from_bytes(&bytes)
            .map(PublicKey)
            .map_err(|_| bad())
    }

    /// Whether `signature` (base64) is this key's signature of `message`.
    pub fn verifies(&self, message: &[u8], signature: &str) -> bool {
        let Ok(bytes) = B64.decode(signature.trim()) else {
            return false;
        };
        let Ok(sig) = Signature::from_slice(&bytes) else {
            return false;
        };
        self.0.verify_strict(message, &sig).is_ok() && self.0.verify(message, &sig).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::MemoryStore;

    #[tokio::test]
    async fn a_key_is_made_once_and_signs_what_its_public_key_verifies() {
        let secrets = Secrets::new(MemoryStore::default());
        assert!(SigningIdentity::load(&secrets).await.unwrap().is_none());
        let made = SigningIdentity::load_or_create(&secrets).await.unwrap();
        let again = SigningIdentity::load_or_create(&secrets).await.unwrap();
        assert_eq!(
            made.public_key(),
            again.public_key(),
            "made once, then reused"
        );
        let sig = made.sign(b"manifest bytes");
        let public = PublicKey::parse(&made.public_key().to_text()).unwrap();
        assert!(public.verifies(b"manifest bytes", &sig));
        assert!(!public.verifies(b"manifest bytez", &sig));
        assert!(!public.verifies(b"manifest bytes", "AAAA"));
        let other = SigningIdentity::load_or_create(&Secrets::new(MemoryStore::default()))
            .await
            .unwrap();
        assert!(!other.public_key().verifies(b"manifest bytes", &sig));
        assert!(made.public_key().fingerprint().starts_with("SHA256:"));
        for bad in ["", "ed25519:", "ed25519:abc", "rsa:AAAA"] {
            assert_eq!(PublicKey::parse(bad).unwrap_err().kind(), "invalid_input");
        }
    }
}
