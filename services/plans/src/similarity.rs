//! Link suggestions: Okapi BM25 over Snowball-stemmed Russian words of measure titles.
//!
//! A person confirms or rejects what this ranks; nothing is linked automatically. Scores are
//! comparable within one query only. The index is built per request over the candidate set
//! (fine for a region's plans; a national-scale precomputed index is future work).

use std::collections::HashMap;

use rust_stemmers::{Algorithm, Stemmer};

const K1: f64 = 1.2;
const B: f64 = 0.75;

/// Words too common in roadmaps to tell measures apart.
const STOPWORDS: &[&str] = &[
    "и",
    "в",
    "во",
    "на",
    "по",
    "с",
    "со",
    "для",
    "из",
    "к",
    "о",
    "об",
    "от",
    "до",
    "при",
    "за",
    "не",
    "а",
    "или",
    "их",
    "его",
    "её",
    "как",
    "что",
    "том",
    "числе",
    "рамках",
    "также",
    "г",
    "год",
    "года",
    "гг",
];

/// Lower-cased, stop-word-free, stemmed words.
pub fn tokens(text: &str) -> Vec<String> {
    let stemmer = Stemmer::create(Algorithm::Russian);
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() > 1)
        .map(|w| w.to_lowercase().replace('ё', "е"))
        .filter(|w| !STOPWORDS.contains(&w.as_str()))
        .map(|w| stemmer.stem(&w).into_owned())
        .collect()
}

/// A BM25 index over candidate documents.
pub struct Index<K> {
    docs: Vec<(K, HashMap<String, usize>, usize)>,
    df: HashMap<String, usize>,
    avg_len: f64,
}

impl<K: Clone> Index<K> {
    pub fn new(docs: impl IntoIterator<Item = (K, String)>) -> Self {
        let mut df: HashMap<String, usize> = HashMap::new();
        let docs: Vec<(K, HashMap<String, usize>, usize)> = docs
            .into_iter()
            .map(|(k, text)| {
                let toks = tokens(&text);
                let mut tf: HashMap<String, usize> = HashMap::new();
                for t in &toks {
                    *tf.entry(t.clone()).or_default() += 1;
                }
                for t in tf.keys() {
                    *df.entry(t.clone()).or_default() += 1;
                }
                (k, tf, toks.len())
            })
            .collect();
        let avg_len = if docs.is_empty() {
            0.0
        } else {
            docs.iter().map(|d| d.2).sum::<usize>() as f64 / docs.len() as f64
        };
        Self { docs, df, avg_len }
    }

    /// The `first` best candidates for `query`, best first; candidates sharing no word are left out.
    pub fn rank(&self, query: &str, first: usize) -> Vec<(K, f64)> {
        let n = self.docs.len() as f64;
        let mut q = tokens(query);
        q.sort();
        q.dedup();
        let mut scored: Vec<(K, f64)> = self
            .docs
            .iter()
            .filter_map(|(k, tf, len)| {
                let score: f64 = q
                    .iter()
                    .filter_map(|t| {
                        let f = *tf.get(t)? as f64;
                        let df = *self.df.get(t).unwrap_or(&0) as f64;
                        let idf = ((n - df + 0.5) / (df + 0.5) + 1.0).ln();
                        Some(idf * f * (K1 + 1.0) / (f + K1 * (1.0 - B + B * *len as f64 / self.avg_len.max(1.0))))
                    })
                    .sum();
                (score > 0.0).then(|| (k.clone(), score))
            })
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1));
        scored.truncate(first);
        scored
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_russian_inflections_together() {
        assert_eq!(tokens("практикумов"), tokens("практикумы"));
        assert_eq!(tokens("каскадной модели"), tokens("каскадная модель"));
        assert!(tokens("в рамках и для").is_empty());
    }

    #[test]
    fn ranks_the_shared_rare_words_first() {
        let index = Index::new([
            (1, "Проведение совещаний с руководителями ОО".to_string()),
            (
                2,
                "Организация практикумов по предметам (каскадная модель обучения)".to_string(),
            ),
            (3, "Организация курсов повышения квалификации".to_string()),
        ]);
        let ranked = index.rank("Практикумы с обучающимися в рамках каскадной модели", 3);
        assert_eq!(ranked[0].0, 2);
        assert!(
            ranked.iter().all(|(k, _)| *k != 1),
            "no shared word, no suggestion: {:?}",
            ranked.iter().map(|r| r.0).collect::<Vec<_>>()
        );
    }
}
