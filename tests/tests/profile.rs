//! `RelyingPartyBuilder::profile(Profile::Fapi2, ..)` against the misbehaving OP: `try_build`
//! names every violation, `build` refuses every login instead, and a relying party that meets
//! FAPI 2.0 only ever pushes its authorization requests.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

use relier::core::profile::{Item, Profile, ProfileError};
use relier::core::token_binding::TokenBinding;
use relier::core::{AuthorizationParams, ClientAuth, ClientId, IssuerUrl, RedirectUrl, Secret};
use relier::jose::{Algorithm, SigningKey};
use relier::{Error, HttpClient, RelyingParty, RelyingPartyBuilder};
use relier_tests::bad_op::{BadOp, CLIENT_ID, Misbehavior};
use serde_json::json;

const DPOP: TokenBinding = TokenBinding {
    dpop: true,
    certificate: false,
};

async fn builder(op: &BadOp, auth: ClientAuth) -> RelyingPartyBuilder {
    let http = HttpClient::new(&Default::default()).unwrap();
    let md = relier::discover(&http, &IssuerUrl::new(op.issuer()).unwrap())
        .await
        .unwrap();
    RelyingParty::builder(http, md, auth)
        .redirect_uri(RedirectUrl::new("http://127.0.0.1:1/callback").unwrap())
        .id_token_alg(Algorithm::ES256)
}

fn private_key_jwt() -> ClientAuth {
    let key = SigningKey::generate(Algorithm::ES256, None).unwrap();
    ClientAuth::private_key_jwt(ClientId::new(CLIENT_ID).unwrap(), key).unwrap()
}

fn items(e: &Error) -> Vec<Item> {
    match e {
        Error::Profile(ProfileError::Violations { violations, .. }) => {
            violations.iter().map(|v| v.item).collect()
        }
        other => panic!("not a profile error: {other}"),
    }
}

#[tokio::test]
async fn try_build_names_every_violation_and_build_refuses_logins() {
    let op = BadOp::start().await.unwrap();
    let secret =
        ClientAuth::client_secret_basic(ClientId::new(CLIENT_ID).unwrap(), Secret::new("s"));
    let err = builder(&op, secret.clone())
        .await
        .profile(Profile::Fapi2, TokenBinding::default())
        .try_build()
        .unwrap_err();
    assert_eq!(
        items(&err),
        [
            Item::Par,
            Item::ClientAuthentication,
            Item::SenderConstrainedTokens
        ]
    );
    let rp = builder(&op, secret)
        .await
        .profile(Profile::Fapi2, TokenBinding::default())
        .build();
    let params = AuthorizationParams::default();
    assert_eq!(items(&rp.login_url(&params).await.unwrap_err()).len(), 3);
    assert!(matches!(
        rp.authorization_url(&params),
        Err(Error::Profile(_))
    ));
    assert_eq!(op.token_calls(), 0);
}

#[tokio::test]
async fn a_conforming_relying_party_only_pushes() {
    let op = BadOp::start().await.unwrap();
    let discovery = json!({
        "pushed_authorization_request_endpoint": format!("{}/par", op.issuer()),
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "dpop_signing_alg_values_supported": ["ES256"],
    });
    op.set(Misbehavior {
        discovery: discovery.as_object().unwrap().clone(),
        ..Default::default()
    });
    let rp = builder(&op, private_key_jwt())
        .await
        .profile(Profile::Fapi2, DPOP)
        .try_build()
        .unwrap();
    // Even asked not to, the profile pushes (FAPI 2.0 Security Profile §5.3.2.2).
    let rp = rp.with_pushed_authorization_requests(false);
    assert!(rp.uses_par());
    let params = AuthorizationParams::default();
    let err = rp.authorization_url(&params).unwrap_err();
    assert!(err.to_string().contains("must be pushed"), "{err}");
    // The bad OP has no PAR endpoint: the push itself is what fails.
    let err = rp.login_url(&params).await.unwrap_err();
    assert!(matches!(err, Error::Token(_)), "{err}");
    assert!(
        err.to_string().contains("pushed_authorization_request"),
        "{err}"
    );
}
