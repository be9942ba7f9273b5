//! S3 in the hub account: the sweep's full report written to the report bucket, and the
//! exemptions file and the mode per scope read from it (what changes without a new build).

use aws_sdk_s3::primitives::ByteStream;

use super::AwsError;

/// Largest exemptions file read: like a baseline, it is small; a huge object is a mistake.
pub const MAX_OBJECT_BYTES: i64 = 1024 * 1024;

/// An object named `s3://BUCKET/KEY`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Uri {
    pub bucket: String,
    pub key: String,
}

impl S3Uri {
    /// Reads `s3://BUCKET/KEY`; `None` when it is not one.
    pub fn parse(text: &str) -> Option<S3Uri> {
        let (bucket, key) = text.strip_prefix("s3://")?.split_once('/')?;
        let bucket_ok = (3..=63).contains(&bucket.len())
            && bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
        (bucket_ok && !key.is_empty()).then(|| S3Uri {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
        })
    }
}

impl std::fmt::Display for S3Uri {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

/// An S3 object's version id, as S3 gave it (opaque: up to 1024 printable characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionId(String);

impl VersionId {
    /// Reads a version id; `None` when it cannot be one (empty, too long, white space or
    /// control characters, or `null`, S3's word for an object written before versioning).
    pub fn parse(text: &str) -> Option<VersionId> {
        let printable = text.chars().all(|c| c.is_ascii_graphic());
        ((1..=1024).contains(&text.len()) && printable && text != "null")
            .then(|| VersionId(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for VersionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An object to read: `s3://BUCKET/KEY`, at one version when one is named (the version the hub
/// module wrote, so that what is read is what the function's configuration names), else the
/// current one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Object {
    pub uri: S3Uri,
    pub version: Option<VersionId>,
}

impl std::fmt::Display for S3Object {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.version {
            None => write!(f, "`{}`", self.uri),
            Some(version) => write!(f, "`{}` (version `{version}`)", self.uri),
        }
    }
}

/// The object metadata in which sgguard says who wrote an object (`x-amz-meta-…`).
pub const WRITTEN_BY: &str = "sgguard-written-by";

/// An object's text and its entity tag (what changed, when it changes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    pub text: String,
    pub etag: Option<String>,
    /// Who wrote it, when sgguard wrote it ([`WRITTEN_BY`]); S3 keeps no writer otherwise.
    pub written_by: Option<String>,
    /// Which write it is: the S3 version id in a versioned bucket (the hub module's), else when
    /// it was written (`Last-Modified`, to the second). The same text written again has the
    /// same entity tag, but not the same version.
    pub version: Option<String>,
}

/// An S3 call's error, naming the object.
fn failed<E>(operation: &'static str, object: &str, region: &str, error: &E) -> AwsError
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    let mut error = AwsError::new(operation, "hub", region, error);
    error.message = format!("{object}: {}", error.message);
    error
}

fn region_of(s3: &aws_sdk_s3::Client) -> String {
    s3.config()
        .region()
        .map_or_else(|| "?".to_owned(), ToString::to_string)
}

/// The object's current text (UTF-8, at most [`MAX_OBJECT_BYTES`]).
pub async fn get_text(s3: &aws_sdk_s3::Client, uri: &S3Uri) -> Result<Fetched, AwsError> {
    get_text_at(s3, uri, None).await
}

/// The object's text at `version` (IAM: `s3:GetObjectVersion`), or its current text when
/// `None` (`s3:GetObject`).
pub async fn get_text_at(
    s3: &aws_sdk_s3::Client,
    uri: &S3Uri,
    version: Option<&VersionId>,
) -> Result<Fetched, AwsError> {
    let region = region_of(s3);
    let failure = |message: String| AwsError {
        operation: "GetObject",
        account: "hub".to_owned(),
        region: region.clone(),
        code: None,
        message: format!("{uri}: {message}"),
    };
    let output = s3
        .get_object()
        .bucket(&uri.bucket)
        .key(&uri.key)
        .set_version_id(version.map(|v| v.as_str().to_owned()))
        .send()
        .await
        .map_err(|e| failed("GetObject", &uri.to_string(), &region, &e))?;
    if output.content_length().unwrap_or(0) > MAX_OBJECT_BYTES {
        return Err(failure(format!("larger than {MAX_OBJECT_BYTES} bytes")));
    }
    let etag = output.e_tag().map(str::to_owned);
    let written_by = output
        .metadata()
        .and_then(|metadata| metadata.get(WRITTEN_BY))
        .cloned();
    let version = output
        .version_id()
        .filter(|id| *id != "null")
        .map(str::to_owned)
        .or_else(|| output.last_modified().map(ToString::to_string));
    let bytes = output
        .body
        .collect()
        .await
        .map_err(|e| failure(format!("cannot read the body: {e}")))?
        .into_bytes();
    if i64::try_from(bytes.len()).unwrap_or(i64::MAX) > MAX_OBJECT_BYTES {
        return Err(failure(format!("larger than {MAX_OBJECT_BYTES} bytes")));
    }
    let text = String::from_utf8(bytes.to_vec())
        .map_err(|_| failure("the object is not UTF-8 text".to_owned()))?;
    Ok(Fetched {
        text,
        etag,
        written_by,
        version,
    })
}

/// Writes a text object (the exemptions file, `sgguard restore --exempt-days`) only if it is
/// still the version read: entity tag `etag`, or absent when `None` (`If-Match`,
/// `If-None-Match: *`). `Ok(false)` when it changed in between (`PreconditionFailed`, or
/// `ConditionalRequestConflict` when another write is under way).
pub async fn put_text_if(
    s3: &aws_sdk_s3::Client,
    uri: &S3Uri,
    text: &str,
    etag: Option<&str>,
    written_by: &str,
) -> Result<bool, AwsError> {
    let region = region_of(s3);
    let sent = s3
        .put_object()
        .bucket(&uri.bucket)
        .key(&uri.key)
        .content_type("application/yaml")
        .metadata(WRITTEN_BY, written_by)
        .set_if_match(etag.map(str::to_owned))
        .set_if_none_match(etag.is_none().then(|| "*".to_owned()))
        .body(ByteStream::from(text.as_bytes().to_vec()))
        .send()
        .await;
    match sent {
        Ok(_) => Ok(true),
        Err(e) => {
            let error = failed("PutObject", &uri.to_string(), &region, &e);
            if error.code_is("PreconditionFailed") || error.code_is("ConditionalRequestConflict") {
                Ok(false)
            } else {
                Err(error)
            }
        }
    }
}

/// Writes a JSON document to `bucket`/`key` (the bucket's default encryption applies).
pub async fn put_json(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    body: Vec<u8>,
) -> Result<(), AwsError> {
    let region = region_of(s3);
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .content_type("application/json")
        .body(ByteStream::from(body))
        .send()
        .await
        .map_err(|e| failed("PutObject", &format!("s3://{bucket}/{key}"), &region, &e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_uris_parse_and_bad_ones_do_not() {
        let uri = S3Uri::parse("s3://sgguard-reports-1/config/exemptions.yaml").unwrap();
        assert_eq!(uri.bucket, "sgguard-reports-1");
        assert_eq!(uri.key, "config/exemptions.yaml");
        assert_eq!(
            uri.to_string(),
            "s3://sgguard-reports-1/config/exemptions.yaml"
        );
        for bad in [
            "https://bucket/key",
            "s3://bucket",
            "s3://bucket/",
            "s3://Bucket/key",
            "s3://ab/key",
        ] {
            assert_eq!(S3Uri::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn version_ids_are_what_s3_gives_and_an_object_says_its_version() {
        let version = VersionId::parse("3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY").unwrap();
        let object = S3Object {
            uri: S3Uri::parse("s3://sgguard-reports-1/config/mode-by-scope.json").unwrap(),
            version: Some(version),
        };
        assert_eq!(
            object.to_string(),
            "`s3://sgguard-reports-1/config/mode-by-scope.json` (version \
             `3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY`)"
        );
        let latest = S3Object {
            version: None,
            ..object
        };
        assert_eq!(
            latest.to_string(),
            "`s3://sgguard-reports-1/config/mode-by-scope.json`"
        );
        let long = "v".repeat(1025);
        for bad in ["", "null", "a b", "a\nb", long.as_str()] {
            assert_eq!(VersionId::parse(bad), None, "{bad}");
        }
    }
}
