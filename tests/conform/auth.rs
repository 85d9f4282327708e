//! The client's authentication: client-credentials tokens fetched, cached, refreshed before
//! expiry and once on a 401; token responses checked; basic and bearer headers.

use super::*;

#[tokio::test(start_paused = true)]
async fn client_credentials_token_is_fetched_and_refreshed_before_expiry() {
    let server = MockServer::start().await;
    let token = format!("{PUB}/applications/token");
    Mock::given(method("POST"))
        .and(path(token.as_str()))
        .and(body_json(serde_json::json!({"client_id":"airguard-client","client_secret":"s3cr3t-value","grant-type":"client_credentials"})))
        .respond_with(json(200, r#"{"access_token":"tok-1","token_type":"Bearer","expires_in":180}"#))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    scenario(
        &server,
        [(
            "POST",
            &token,
            ALWAYS,
            json(
                200,
                r#"{"access_token":"tok-2","token_type":"Bearer","expires_in":180}"#,
            ),
        )],
    )
    .await;
    for (tok, id) in [("tok-1", 1), ("tok-2", 2)] {
        Mock::given(method("GET"))
            .and(path(format!("{PUB}/jobs/{id}")))
            .and(header("authorization", format!("Bearer {tok}").as_str()))
            .respond_with(json(200, &public_job(id, "running", "sync", ORDERS)))
            .mount(&server)
            .await;
    }
    let c = client_with(&server, ApiFlavour::Public, cc(&server, TokenBody::Json));
    c.job(1).await.unwrap();
    tokio::time::advance(Duration::from_secs(100)).await;
    c.job(1).await.unwrap(); // still fresh: 100 s < 180 s - 60 s
    tokio::time::advance(Duration::from_secs(21)).await;
    c.job(2).await.unwrap(); // 121 s: refreshed before expiry
    assert_eq!(
        log(&server).await,
        [
            &token,
            &format!("{PUB}/jobs/1"),
            &format!("{PUB}/jobs/1"),
            &token,
            &format!("{PUB}/jobs/2")
        ]
        .iter()
        .zip(["POST", "GET", "GET", "POST", "GET"])
        .map(|(p, m)| format!("{m} {p}"))
        .collect::<Vec<_>>()
    );
}

#[tokio::test(start_paused = true)]
async fn a_401_refreshes_the_token_once_then_fails() {
    let server = MockServer::start().await;
    let token = format!("{PUB}/applications/token");
    Mock::given(method("POST"))
        .and(path(token.as_str()))
        .and(body_string(
            "grant_type=client_credentials&client_id=airguard-client&client_secret=s3cr3t-value",
        ))
        .respond_with(json(
            200,
            r#"{"access_token":"tok-1","token_type":"bearer","expires_in":900}"#,
        ))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    scenario(
        &server,
        [
            (
                "POST",
                &token,
                1,
                json(
                    200,
                    r#"{"access_token":"tok-2","token_type":"Bearer","expires_in":900}"#,
                ),
            ),
            (
                "POST",
                &token,
                ALWAYS,
                json(
                    200,
                    r#"{"access_token":"tok-3","token_type":"Bearer","expires_in":900}"#,
                ),
            ),
        ],
    )
    .await;
    let unauthorized = r#"{"status":401,"type":"https://reference.airbyte.com/reference/errors#invalid-api-key","title":"invalid-api-key","detail":"Invalid API key"}"#;
    Mock::given(method("GET"))
        .and(path(format!("{PUB}/jobs/1")))
        .and(header("authorization", "Bearer tok-2"))
        .respond_with(json(200, &public_job(1, "running", "sync", ORDERS)))
        .mount(&server)
        .await;
    scenario(
        &server,
        [(
            "GET",
            &format!("{PUB}/jobs/1"),
            ALWAYS,
            json(401, unauthorized),
        )],
    )
    .await;
    let c = client_with(&server, ApiFlavour::Public, cc(&server, TokenBody::Form));
    // tok-1 is rejected, tok-2 works.
    c.job(1).await.unwrap();
    // Now every token is rejected: refresh once (tok-3), then fail.
    server.reset().await;
    scenario(
        &server,
        [
            (
                "POST",
                &token,
                ALWAYS,
                json(
                    200,
                    r#"{"access_token":"tok-3","token_type":"Bearer","expires_in":900}"#,
                ),
            ),
            (
                "GET",
                &format!("{PUB}/jobs/1"),
                ALWAYS,
                json(401, unauthorized),
            ),
        ],
    )
    .await;
    let err = c.job(1).await.unwrap_err();
    assert!(matches!(err, ClientError::Unauthorized { .. }), "{err}");
    assert_eq!(
        log(&server).await,
        [
            format!("GET {PUB}/jobs/1"),
            format!("POST {token}"),
            format!("GET {PUB}/jobs/1")
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn token_responses_are_checked_and_secrets_stay_out_of_errors() {
    let server = MockServer::start().await;
    scenario(
        &server,
        [(
            "POST",
            &format!("{PUB}/applications/token"),
            ALWAYS,
            json(200, r#"{"access_token":"tok-1","token_type":"MAC"}"#),
        )],
    )
    .await;
    let c = client_with(&server, ApiFlavour::Public, cc(&server, TokenBody::Json));
    let err = c.job(1).await.unwrap_err();
    let text = err.chain();
    assert!(text.contains("token_type"), "{text}");
    assert!(
        !text.contains("s3cr3t-value") && !format!("{c:?}").contains("s3cr3t-value"),
        "{text}"
    );
    assert_eq!(
        log(&server).await,
        [format!("POST {PUB}/applications/token")]
    );
}

#[tokio::test(start_paused = true)]
async fn basic_and_bearer_headers() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{PUB}/jobs/1")))
        .and(header("authorization", "Basic YWlyYnl0ZTpwYXNzd29yZA=="))
        .respond_with(json(200, &public_job(1, "running", "sync", ORDERS)))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{PUB}/jobs/2")))
        .and(header("authorization", "Bearer static-token"))
        .respond_with(json(200, &public_job(2, "running", "sync", ORDERS)))
        .mount(&server)
        .await;
    let basic = Credentials::Basic {
        user: "airbyte".to_string().into(),
        password: "password".to_string().into(),
    };
    client_with(&server, ApiFlavour::Public, basic)
        .job(1)
        .await
        .unwrap();
    client_with(
        &server,
        ApiFlavour::Public,
        Credentials::Bearer("static-token".to_string().into()),
    )
    .job(2)
    .await
    .unwrap();
    assert_eq!(
        log(&server).await,
        [format!("GET {PUB}/jobs/1"), format!("GET {PUB}/jobs/2")]
    );
}
