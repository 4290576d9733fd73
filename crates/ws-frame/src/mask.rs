//! Payload masking (RFC 6455 section 5.3), a word at a time in safe code.
//!
//! Masking XORs byte `i` with `key[i % 4]`. The loops below work on 8-byte words
//! (`chunks_exact` + `u64::from_ne_bytes`), which the compiler turns into wide vector XORs;
//! only the last 0-7 bytes are handled one at a time.

/// The key rotated so that `key[0]` applies to the byte at `offset`.
#[inline]
fn rotate(key: [u8; 4], offset: usize) -> [u8; 4] {
    // Moving byte i to position i - offset is a right rotation of the little-endian word.
    #[allow(clippy::cast_possible_truncation, reason = "offset % 4 * 8 < 32")]
    let bits = (offset % 4 * 8) as u32;
    u32::from_le_bytes(key).rotate_right(bits).to_le_bytes()
}

#[inline]
fn word(key: [u8; 4]) -> u64 {
    let [a, b, c, d] = key;
    u64::from_ne_bytes([a, b, c, d, a, b, c, d])
}

/// Masks (or unmasks: the operation is its own inverse) `buf` in place with `key`.
///
/// ```
/// let mut data = *b"Hello";
/// ws_frame::apply_mask(&mut data, [0x37, 0xfa, 0x21, 0x3d]);
/// assert_eq!(data, [0x7f, 0x9f, 0x4d, 0x51, 0x58]);
/// ```
#[inline]
pub fn apply_mask(buf: &mut [u8], key: [u8; 4]) {
    apply_mask_offset(buf, key, 0);
}

/// Masks `buf` in place as if it started `offset` bytes into the payload, for payloads that
/// arrive in pieces: mask each piece with the number of payload bytes before it.
pub fn apply_mask_offset(buf: &mut [u8], key: [u8; 4], offset: usize) {
    let key = rotate(key, offset);
    let w = word(key);
    let mut chunks = buf.chunks_exact_mut(8);
    for chunk in &mut chunks {
        if let Ok(bytes) = <&mut [u8; 8]>::try_from(chunk) {
            *bytes = (u64::from_ne_bytes(*bytes) ^ w).to_ne_bytes();
        }
    }
    for (byte, k) in chunks.into_remainder().iter_mut().zip(key.iter().cycle()) {
        *byte ^= k;
    }
}

/// Copies `src` into `dst`, masking with `key` on the way: one pass for the send path.
///
/// # Panics
///
/// If `dst.len() != src.len()`.
pub fn copy_masked(dst: &mut [u8], src: &[u8], key: [u8; 4]) {
    assert_eq!(dst.len(), src.len(), "copy_masked needs equal lengths");
    let w = word(key);
    let mut dst_chunks = dst.chunks_exact_mut(8);
    let mut src_chunks = src.chunks_exact(8);
    for (d, s) in (&mut dst_chunks).zip(&mut src_chunks) {
        if let (Ok(d), Ok(s)) = (<&mut [u8; 8]>::try_from(d), <&[u8; 8]>::try_from(s)) {
            *d = (u64::from_ne_bytes(*s) ^ w).to_ne_bytes();
        }
    }
    let tail = dst_chunks.into_remainder().iter_mut();
    for ((d, s), k) in tail.zip(src_chunks.remainder()).zip(key.iter().cycle()) {
        *d = s ^ k;
    }
}

#[cfg(test)]
mod tests {
    use std::prelude::rust_2024::*;

    use proptest::prelude::*;

    use super::*;

    fn reference(buf: &mut [u8], key: [u8; 4], offset: usize) {
        for (i, b) in buf.iter_mut().enumerate() {
            *b ^= key[(i + offset) % 4];
        }
    }

    #[test]
    fn masks_rfc_example() {
        let mut data = *b"Hello";
        apply_mask(&mut data, [0x37, 0xfa, 0x21, 0x3d]);
        assert_eq!(data, [0x7f, 0x9f, 0x4d, 0x51, 0x58]);
        apply_mask(&mut data, [0x37, 0xfa, 0x21, 0x3d]);
        assert_eq!(&data, b"Hello");
    }

    #[test]
    fn mask_matches_reference_for_every_length_and_alignment() {
        let key = [0xA1, 0x02, 0xF3, 0x74];
        let backing: Vec<u8> = (0..320u32).map(|i| (i * 7 + 3).to_le_bytes()[0]).collect();
        for len in 0..=300 {
            for start in 0..8 {
                for offset in 0..5 {
                    let mut fast = backing[start..start + len].to_vec();
                    let mut slow = fast.clone();
                    apply_mask_offset(&mut fast, key, offset);
                    reference(&mut slow, key, offset);
                    assert_eq!(fast, slow, "len {len} start {start} offset {offset}");

                    let mut dst = vec![0; len];
                    copy_masked(&mut dst, &backing[start..start + len], key);
                    let mut expect = backing[start..start + len].to_vec();
                    reference(&mut expect, key, 0);
                    assert_eq!(dst, expect, "copy_masked len {len} start {start}");
                }
            }
        }
    }

    #[test]
    fn masking_in_pieces_equals_masking_at_once() {
        let key = [1, 2, 3, 4];
        let mut whole: Vec<u8> = (0..=255).collect();
        let mut pieces = whole.clone();
        apply_mask(&mut whole, key);
        let mut pos = 0;
        for len in [1, 2, 3, 5, 8, 13, 21, 34, 55, 73, 41] {
            apply_mask_offset(&mut pieces[pos..pos + len], key, pos);
            pos += len;
        }
        assert_eq!(pos, 256);
        assert_eq!(whole, pieces);
    }

    proptest! {
        #[test]
        fn mask_agrees_with_reference(
            data in proptest::collection::vec(any::<u8>(), 0..=300),
            key in any::<[u8; 4]>(),
            offset in 0usize..1000,
            start in 0usize..8,
        ) {
            let start = start.min(data.len());
            let mut fast = data[start..].to_vec();
            let mut slow = fast.clone();
            apply_mask_offset(&mut fast, key, offset);
            reference(&mut slow, key, offset);
            prop_assert_eq!(&fast, &slow);
            let mut dst = vec![0; data.len() - start];
            copy_masked(&mut dst, &data[start..], key);
            reference(&mut slow, key, offset);
            reference(&mut slow, key, 0);
            prop_assert_eq!(dst, slow);
        }
    }
}
