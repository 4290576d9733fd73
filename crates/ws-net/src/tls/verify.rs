//! The server certificate verifier used when the caller trusts certificates explicitly
//! (CA files, CA directories, the `WEBSOCKET_CLIENT_CA_BUNDLE` bundle).
//!
//! It is rustls' webpki verifier plus one rule OpenSSL also has: a server certificate
//! that is byte for byte one the caller listed is accepted although it cannot be a chain
//! end (the self-signed certificate of `openssl req -x509 ...` says `CA:TRUE`, which
//! webpki refuses as `CaUsedAsEndEntity`). Its name and validity dates are still checked
//! here, and the handshake signatures are verified by the webpki verifier with the
//! provider's algorithms, so the server must hold the certificate's private key.

use std::sync::Arc;
use std::time::Duration;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};

/// Webpki verification, plus acceptance of a server certificate the caller trusts by
/// its exact bytes.
#[derive(Debug)]
pub(crate) struct ExplicitTrust {
    webpki: Arc<WebPkiServerVerifier>,
    /// The certificates the caller listed (not the default roots).
    explicit: Vec<CertificateDer<'static>>,
}

impl ExplicitTrust {
    pub(crate) fn new(
        webpki: Arc<WebPkiServerVerifier>,
        explicit: Vec<CertificateDer<'static>>,
    ) -> Self {
        Self { webpki, explicit }
    }

    /// The checks for a certificate the caller listed: validity dates, then the name.
    fn verify_explicit(
        end_entity: &CertificateDer<'_>,
        server_name: &ServerName<'_>,
        now: UnixTime,
    ) -> Result<(), rustls::Error> {
        let (not_before, not_after) = validity(end_entity).ok_or(CertificateError::BadEncoding)?;
        let at = |secs: u64| UnixTime::since_unix_epoch(Duration::from_secs(secs));
        if now.as_secs() < not_before {
            return Err(CertificateError::NotValidYetContext {
                time: now,
                not_before: at(not_before),
            }
            .into());
        }
        if now.as_secs() > not_after {
            return Err(CertificateError::ExpiredContext {
                time: now,
                not_after: at(not_after),
            }
            .into());
        }
        let parsed = ParsedCertificate::try_from(end_entity)?;
        rustls::client::verify_server_name(&parsed, server_name)
    }
}

impl ServerCertVerifier for ExplicitTrust {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let refused = match self.webpki.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Ok(verified) => return Ok(verified),
            Err(refused) => refused,
        };
        let rustls::Error::InvalidCertificate(reason) = &refused else {
            return Err(refused);
        };
        let chain_end_refused =
            matches!(reason, CertificateError::UnknownIssuer) || is_ca_used_as_end_entity(reason);
        if !chain_end_refused
            || !self
                .explicit
                .iter()
                .any(|trusted| trusted.as_ref() == end_entity.as_ref())
        {
            return Err(refused);
        }
        Self::verify_explicit(end_entity, server_name, now)?;
        log::debug!("tls: the server's certificate is one the caller trusts explicitly");
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

/// Whether webpki refused the certificate for being a CA (`basicConstraints CA:TRUE`).
pub(crate) fn is_ca_used_as_end_entity(reason: &CertificateError) -> bool {
    webpki_error(reason) == Some(&webpki::Error::CaUsedAsEndEntity)
}

/// The webpki error behind rustls' `CertificateError::Other`, if that is what it is.
pub(crate) fn webpki_error(reason: &CertificateError) -> Option<&webpki::Error> {
    match reason {
        CertificateError::Other(other) => other.0.downcast_ref::<webpki::Error>(),
        _ => None,
    }
}

/// The `notBefore` and `notAfter` of a DER certificate, in seconds since 1970 (RFC 5280
/// section 4.1: `Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version
/// OPTIONAL, serialNumber, signature, issuer, validity SEQUENCE { notBefore, notAfter }
/// ...} ...}`). `None` for anything malformed.
pub(crate) fn validity(der: &[u8]) -> Option<(u64, u64)> {
    const SEQUENCE: u8 = 0x30;
    let (certificate, _) = der_item(der, SEQUENCE)?;
    let (tbs, _) = der_item(certificate, SEQUENCE)?;
    let rest = match der_item(tbs, 0xa0) {
        Some((_, rest)) => rest,
        None => tbs,
    };
    let (_serial, rest) = der_item(rest, 0x02)?;
    let (_signature, rest) = der_item(rest, SEQUENCE)?;
    let (_issuer, rest) = der_item(rest, SEQUENCE)?;
    let (validity, _) = der_item(rest, SEQUENCE)?;
    let (not_before, rest) = der_time(validity)?;
    let (not_after, _) = der_time(rest)?;
    Some((not_before, not_after))
}

/// One DER item with tag `tag` at the start of `input`: its contents and what follows.
fn der_item(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&found, rest) = input.split_first()?;
    if found != tag {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 {
            return None;
        }
        let (bytes, rest) = rest.split_at_checked(count)?;
        let len = bytes
            .iter()
            .fold(0usize, |len, &b| (len << 8) | usize::from(b));
        (len, rest)
    };
    rest.split_at_checked(len)
}

/// A `UTCTime` (`YYMMDDHHMMSSZ`, years 1950 to 2049) or `GeneralizedTime`
/// (`YYYYMMDDHHMMSSZ`) at the start of `input`, as seconds since 1970.
fn der_time(input: &[u8]) -> Option<(u64, &[u8])> {
    let (digits, rest, year) = if let Some((text, rest)) = der_item(input, 0x17) {
        let digits = text.strip_suffix(b"Z").filter(|d| d.len() == 12)?;
        let yy = number(digits.get(..2)?)?;
        let century = if yy >= 50 { 1900 } else { 2000 };
        (digits.get(2..)?, rest, century + yy)
    } else {
        let (text, rest) = der_item(input, 0x18)?;
        let digits = text.strip_suffix(b"Z").filter(|d| d.len() == 14)?;
        (digits.get(4..)?, rest, number(digits.get(..4)?)?)
    };
    let field = |at: usize| number(digits.get(at..at + 2)?);
    let (month, day) = (field(0)?, field(2)?);
    let (hour, minute, second) = (field(4)?, field(6)?, field(8)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    if second > 60 {
        return None;
    }
    let days = days_from_civil(year, month, day)?;
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second;
    Some((secs, rest))
}

/// ASCII decimal digits as a number.
fn number(digits: &[u8]) -> Option<u64> {
    digits.iter().try_fold(0u64, |n, &d| {
        d.is_ascii_digit().then(|| n * 10 + u64::from(d - b'0'))
    })
}

/// Days from 1970-01-01 to a date in the proleptic Gregorian calendar (`None` before
/// 1970), after Howard Hinnant's `days_from_civil`.
fn days_from_civil(year: u64, month: u64, day: u64) -> Option<u64> {
    let year = if month <= 2 {
        year.checked_sub(1)?
    } else {
        year
    };
    let era = year / 400;
    let year_of_era = year % 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    (era * 146_097 + day_of_era).checked_sub(719_468)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::format_utc;

    fn cert(edit: impl FnOnce(&mut rcgen::CertificateParams)) -> CertificateDer<'static> {
        let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        edit(&mut params);
        let key = rcgen::KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().der().clone()
    }

    #[test]
    fn reads_the_validity_of_utc_and_generalized_times() {
        // rcgen writes UTCTime up to 2049 and GeneralizedTime from 2050 (RFC 5280).
        let der = cert(|p| {
            p.not_before = rcgen::date_time_ymd(2019, 3, 1);
            p.not_after = rcgen::date_time_ymd(2051, 12, 31);
        });
        let (not_before, not_after) = validity(&der).unwrap();
        assert_eq!(format_utc(not_before), "2019-03-01 00:00:00 UTC");
        assert_eq!(format_utc(not_after), "2051-12-31 00:00:00 UTC");
        assert_eq!(not_before, 1_551_398_400);
    }

    #[test]
    fn malformed_certificates_have_no_validity_and_never_panic() {
        let der = cert(|_| {});
        for len in 0..der.len() {
            assert_eq!(validity(&der[..len]), None, "prefix of {len} bytes");
        }
        assert_eq!(validity(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]), None);
        assert_eq!(validity(&[0x30, 0x85, 1, 1, 1, 1, 1]), None);
        assert_eq!(der_time(b"\x17\x0d9999999999999"), None);
        assert_eq!(der_time(b"\x18\x0f19691231235959Z"), None);
        assert_eq!(der_time(b"\x18\x0f20201301000000Z"), None);
        assert_eq!(
            der_time(b"\x18\x0f19700101000001Z").map(|(s, _)| s),
            Some(1)
        );
    }

    #[test]
    fn formats_dates_across_leap_years() {
        assert_eq!(format_utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(format_utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(format_utc(1_709_251_199), "2024-02-29 23:59:59 UTC");
        for (y, m, d) in [(2000, 2, 29), (2100, 3, 1), (1999, 12, 31)] {
            let secs = days_from_civil(y, m, d).unwrap() * 86_400;
            assert_eq!(
                format_utc(secs),
                format!("{y:04}-{m:02}-{d:02} 00:00:00 UTC")
            );
        }
    }
}
