//! Metrics files: one row per step, CSV or JSON chosen by the file's extension.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Serialize;

/// Writes serialisable rows as `.csv` (header from the row's fields, via the `csv` crate),
/// `.jsonl` (one object per line) or `.json` (an array, written when closed). Field order is the
/// struct's order in every format.
pub enum MetricsWriter {
    Csv(Box<csv::Writer<File>>),
    JsonLines(BufWriter<File>),
    Json { path: PathBuf, rows: Vec<String> },
}

impl MetricsWriter {
    /// Opens `path`; an unknown extension is refused before any training starts.
    pub fn create(path: &Path) -> Result<Self> {
        let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        let open = || File::create(path).with_context(|| format!("creating {}", path.display()));
        Ok(match extension {
            "csv" => MetricsWriter::Csv(Box::new(csv::Writer::from_writer(open()?))),
            "jsonl" => MetricsWriter::JsonLines(BufWriter::new(open()?)),
            "json" => {
                open()?; // fail now, not after training, if the path is unwritable
                MetricsWriter::Json { path: path.to_path_buf(), rows: Vec::new() }
            }
            other => bail!("metrics file must end in .csv, .json or .jsonl, not {other:?}"),
        })
    }

    pub fn write<T: Serialize>(&mut self, row: &T) -> Result<()> {
        match self {
            MetricsWriter::Csv(out) => out.serialize(row)?,
            MetricsWriter::JsonLines(out) => writeln!(out, "{}", serde_json::to_string(row)?)?,
            MetricsWriter::Json { rows, .. } => rows.push(serde_json::to_string(row)?),
        }
        Ok(())
    }

    pub fn finish(self) -> Result<()> {
        match self {
            MetricsWriter::Csv(mut out) => out.flush()?,
            MetricsWriter::JsonLines(mut out) => out.flush()?,
            MetricsWriter::Json { path, rows } => {
                std::fs::write(&path, format!("[\n{}\n]\n", rows.join(",\n")))
                    .with_context(|| format!("writing {}", path.display()))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Row {
        step: usize,
        loss: f32,
        note: &'static str,
    }

    #[test]
    fn writes_each_format() {
        let dir = std::env::temp_dir().join(format!("aha-metrics-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for ext in ["csv", "jsonl", "json"] {
            let path = dir.join(format!("m.{ext}"));
            let mut w = MetricsWriter::create(&path).unwrap();
            w.write(&Row { step: 0, loss: 1.5, note: "a,b" }).unwrap();
            w.write(&Row { step: 1, loss: 0.5, note: "c" }).unwrap();
            w.finish().unwrap();
            let text = std::fs::read_to_string(&path).unwrap();
            match ext {
                "csv" => assert_eq!(text, "step,loss,note\n0,1.5,\"a,b\"\n1,0.5,c\n"),
                "jsonl" => assert_eq!(text.lines().count(), 2),
                _ => assert_eq!(serde_json::from_str::<serde_json::Value>(&text).unwrap()[1]["step"], 1),
            }
        }
        assert!(MetricsWriter::create(&dir.join("m.txt")).is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
