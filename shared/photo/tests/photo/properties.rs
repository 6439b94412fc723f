//! Whatever bytes arrive, `render` answers with renditions or a reason, never a panic; and when it answers with
//! renditions, they are no larger than the photo and fit the specs.

use std::sync::OnceLock;

use image::RgbaImage;
use proptest::prelude::*;

use crate::*;

/// Small valid inputs of every format, the seeds that mutations start from.
fn seeds() -> &'static [Vec<u8>] {
    static SEEDS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let picture = RgbaImage::from_fn(40, 30, |x, y| image::Rgba([(x * 6) as u8, (y * 8) as u8, 90, (x * y) as u8]));
        vec![
            jpeg(40, 30, |x, y| [(x * 6) as u8, (y * 8) as u8, 90]),
            fixture("progressive.jpg"),
            fixture("orientation-6.jpg"),
            fixture("cmyk-adobe.jpg"),
            png(picture.clone()),
            lossless_webp(picture),
            fixture("lossy.webp"),
        ]
    })
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip { at: usize, mask: u8 },
    Set { at: usize, value: u8 },
    Truncate { at: usize },
    Insert { at: usize, bytes: Vec<u8> },
    Remove { at: usize, len: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1..=255u8).prop_map(|(at, mask)| Mutation::Flip { at, mask }),
        (any::<usize>(), prop_oneof![Just(0u8), Just(0xFF), any::<u8>()])
            .prop_map(|(at, value)| Mutation::Set { at, value }),
        any::<usize>().prop_map(|at| Mutation::Truncate { at }),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        (any::<usize>(), 1..64usize).prop_map(|(at, len)| Mutation::Remove { at, len }),
    ]
}

fn apply(input: &mut Vec<u8>, mutation: &Mutation) {
    if input.is_empty() {
        return;
    }
    let at = |i: usize| i % input.len();
    match mutation {
        Mutation::Flip { at: i, mask } => {
            let i = at(*i);
            input[i] ^= mask;
        }
        Mutation::Set { at: i, value } => {
            let i = at(*i);
            input[i] = *value;
        }
        Mutation::Truncate { at: i } => input.truncate(at(*i)),
        Mutation::Insert { at: i, bytes } => {
            let i = at(*i);
            input.splice(i..i, bytes.iter().copied());
        }
        Mutation::Remove { at: i, len } => {
            let i = at(*i);
            let end = (i + len).min(input.len());
            input.drain(i..end);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn render_never_panics_on_mutated_inputs(
        seed in 0..7usize,
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let mut input = seeds()[seed].clone();
        for m in &mutations {
            apply(&mut input, m);
        }
        let specs = specs(&[("large", 64), ("small", 16)]);
        if let Ok(renditions) = render(&input, &specs, &Limits::default()) {
            prop_assert_eq!(renditions.len(), 2);
            for (rendition, spec) in renditions.iter().zip(&specs) {
                prop_assert!(rendition.width.max(rendition.height) <= spec.long_edge);
                prop_assert!(rendition.width >= 1 && rendition.height >= 1);
                prop_assert!(rendition.jpeg.starts_with(&[0xFF, 0xD8]));
            }
        }
    }

    #[test]
    fn every_long_edge_is_fitted_exactly_or_the_photo_kept(
        width in 1..300usize,
        height in 1..300usize,
        edge in 1..400u32,
    ) {
        let input = jpeg(width, height, |x, y| [(x % 256) as u8, (y % 256) as u8, 0]);
        let rendition = &render_ok(&input, &specs(&[("only", edge)]))[0];
        let long = width.max(height) as u32;
        prop_assert_eq!(rendition.width.max(rendition.height), long.min(edge));
        if long <= edge {
            prop_assert_eq!((rendition.width as usize, rendition.height as usize), (width, height));
        }
    }
}
