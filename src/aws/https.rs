//! The HTTPS client of every AWS call: the SDK's own, with rustls on ring.

use aws_sdk_sts::config::SharedHttpClient;
use aws_smithy_http_client::tls;

/// The HTTPS client of every AWS call: the SDK's own (hyper 1, rustls, the platform's root
/// certificates, as its `default-https-client` feature builds it) with rustls on `ring` instead
/// of aws-lc-rs, whose C library made the Lambda zip larger (docs/performance.md). The SDK
/// crates are built without a default client, so a configuration must carry this one.
pub fn https_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

#[cfg(test)]
mod tests {
    use aws_config::BehaviorVersion;
    use aws_config::retry::RetryConfig;

    use super::https_client;

    /// The SDK crates are built without their default HTTPS client: sgguard's own starts a TLS
    /// handshake (rustls on ring, the platform's roots) with an `https://` endpoint. The local
    /// endpoint reads the client's first bytes, a TLS handshake record, and hangs up.
    #[tokio::test]
    async fn the_https_client_speaks_tls() {
        use std::io::Read;

        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut hello = [0_u8; 5];
            stream.read_exact(&mut hello).unwrap();
            hello
        });
        let config = aws_sdk_sts::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(format!("https://localhost:{port}"))
            .credentials_provider(aws_sdk_sts::config::Credentials::new(
                "AKIDTESTING",
                "secret",
                None,
                None,
                "test",
            ))
            .retry_config(RetryConfig::disabled())
            .http_client(https_client())
            .build();
        let result = aws_sdk_sts::Client::from_conf(config)
            .get_caller_identity()
            .send()
            .await;
        // A TLS record (content type 22, handshake; version 3.x): a ClientHello.
        let hello = server.join().unwrap();
        assert_eq!(hello[0], 22, "{hello:?}");
        assert_eq!(hello[1], 3, "{hello:?}");
        // The endpoint hung up: the request was sent (dispatched) and failed there, which a
        // configuration without an HTTP client could not do.
        let error = result.unwrap_err();
        assert!(
            matches!(error, aws_sdk_sts::error::SdkError::DispatchFailure(_)),
            "{error:?}"
        );
    }
}
