//! Reading CSV files into a table of named columns: header detection, `#` comments, CRLF or LF,
//! UTF-8 (with or without BOM) or EUC-KR/CP949 (Korean public-data files), numeric columns and
//! label-encoded categorical ones, and errors that name the file, line and column.

use std::borrow::Cow;
use std::path::Path;

use crate::error::{Error, Result, bail};
use crate::{DType, Tensor};

/// The text encoding of a CSV file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Encoding {
    /// UTF-8 when the bytes are valid UTF-8, otherwise EUC-KR/CP949 when they decode as that
    /// without error (what `pd.read_csv` users do by hand with `encoding='cp949'`).
    #[default]
    Auto,
    /// UTF-8; a leading byte-order mark is dropped.
    Utf8,
    /// EUC-KR and its superset CP949 (WHATWG's "euc-kr", which is CP949/UHC).
    EucKr,
}

/// Whether the first row holds the column names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Header {
    /// A header when the first row has a non-numeric value in a column whose next row is
    /// numeric (or, with a single row, when no value of it is numeric).
    #[default]
    Auto,
    Present,
    Absent,
}

/// A column named by its header name or by its position (0-based).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ColumnRef {
    Name(String),
    Index(usize),
}

impl From<&str> for ColumnRef {
    fn from(name: &str) -> Self {
        ColumnRef::Name(name.to_string())
    }
}
impl From<String> for ColumnRef {
    fn from(name: String) -> Self {
        ColumnRef::Name(name)
    }
}
impl From<usize> for ColumnRef {
    fn from(index: usize) -> Self {
        ColumnRef::Index(index)
    }
}
impl From<&ColumnRef> for ColumnRef {
    fn from(c: &ColumnRef) -> Self {
        c.clone()
    }
}
impl From<&&str> for ColumnRef {
    fn from(name: &&str) -> Self {
        ColumnRef::Name(name.to_string())
    }
}
impl From<&String> for ColumnRef {
    fn from(name: &String) -> Self {
        ColumnRef::Name(name.clone())
    }
}
impl From<&usize> for ColumnRef {
    fn from(index: &usize) -> Self {
        ColumnRef::Index(*index)
    }
}

impl std::fmt::Display for ColumnRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ColumnRef::Name(n) => write!(f, "{n:?}"),
            ColumnRef::Index(i) => write!(f, "#{i}"),
        }
    }
}

/// How to read a CSV file; `CsvOptions::default()` suits most files.
#[derive(Clone, Debug, PartialEq)]
pub struct CsvOptions {
    pub header: Header,
    /// The field separator (default `,`).
    pub delimiter: u8,
    /// Lines starting with this byte are skipped (default `#`).
    pub comment: Option<u8>,
    pub encoding: Encoding,
    /// Keep only these columns, in this order (default: all).
    pub columns: Option<Vec<ColumnRef>>,
    /// Label-encode these columns even if their values look numeric (a code, a year-month).
    /// Columns whose first value is not a number are label-encoded anyway.
    pub categorical: Vec<ColumnRef>,
    /// Values read as missing (NaN in a numeric column): by default the empty field, `NA`,
    /// `N/A`, `NaN`, `nan`, `null`, `NULL`.
    pub na_values: Vec<String>,
    /// Strip spaces around fields (default on: the lecture files pad values with spaces).
    pub trim: bool,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            header: Header::Auto,
            delimiter: b',',
            comment: Some(b'#'),
            encoding: Encoding::Auto,
            columns: None,
            categorical: Vec::new(),
            na_values: ["", "NA", "N/A", "NaN", "nan", "null", "NULL"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            trim: true,
        }
    }
}

impl CsvOptions {
    pub fn new() -> Self {
        CsvOptions::default()
    }

    /// Forces a header (`true`) or none (`false`) instead of detecting it.
    pub fn has_header(mut self, has_header: bool) -> Self {
        self.header = if has_header {
            Header::Present
        } else {
            Header::Absent
        };
        self
    }

    pub fn delimiter(mut self, delimiter: u8) -> Self {
        self.delimiter = delimiter;
        self
    }

    pub fn comment(mut self, comment: Option<u8>) -> Self {
        self.comment = comment;
        self
    }

    pub fn encoding(mut self, encoding: Encoding) -> Self {
        self.encoding = encoding;
        self
    }

    /// Keeps only the given columns (names or indices), in that order.
    pub fn columns<C: Into<ColumnRef>>(mut self, columns: impl IntoIterator<Item = C>) -> Self {
        self.columns = Some(columns.into_iter().map(Into::into).collect());
        self
    }

    /// Label-encodes the given columns.
    pub fn categorical<C: Into<ColumnRef>>(mut self, columns: impl IntoIterator<Item = C>) -> Self {
        self.categorical = columns.into_iter().map(Into::into).collect();
        self
    }

    pub fn na_values<S: Into<String>>(mut self, values: impl IntoIterator<Item = S>) -> Self {
        self.na_values = values.into_iter().map(Into::into).collect();
        self
    }

    pub fn trim(mut self, trim: bool) -> Self {
        self.trim = trim;
        self
    }
}

/// The values of one column.
#[derive(Clone, Debug, PartialEq)]
pub enum Column {
    /// Numbers; missing values are NaN.
    Numeric(Vec<f64>),
    /// Labels encoded as indices into `classes` (sorted unique labels, as scikit-learn's
    /// `LabelEncoder`); a missing value has code -1.
    Categorical {
        codes: Vec<i64>,
        classes: Vec<String>,
    },
}

impl Column {
    pub fn len(&self) -> usize {
        match self {
            Column::Numeric(v) => v.len(),
            Column::Categorical { codes, .. } => codes.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value of row `row` as a number (a category's code; NaN when missing).
    pub fn value(&self, row: usize) -> f64 {
        match self {
            Column::Numeric(v) => v[row],
            Column::Categorical { codes, .. } if codes[row] < 0 => f64::NAN,
            Column::Categorical { codes, .. } => codes[row] as f64,
        }
    }

    /// Whether row `row` is missing.
    pub fn is_missing(&self, row: usize) -> bool {
        match self {
            Column::Numeric(v) => v[row].is_nan(),
            Column::Categorical { codes, .. } => codes[row] < 0,
        }
    }
}

/// A CSV file read into named columns.
#[derive(Clone, Debug, PartialEq)]
pub struct CsvTable {
    source: String,
    encoding: Encoding,
    names: Vec<String>,
    columns: Vec<Column>,
    rows: usize,
}

/// Reads the CSV file at `path`.
///
/// ```no_run
/// use baeum::data::csv::{read_csv, CsvOptions};
/// let table = read_csv("seoul.csv", &CsvOptions::default()).unwrap();
/// let x = table.to_tensor(&["최저기온(℃)", "최고기온(℃)"]).unwrap();
/// ```
pub fn read_csv(path: impl AsRef<Path>, options: &CsvOptions) -> Result<CsvTable> {
    let path = path.as_ref();
    let bytes = std::fs::read(path)
        .map_err(|e| Error::Io(format!("read_csv: cannot read {}: {e}", path.display())))?;
    read_csv_bytes(&bytes, &path.display().to_string(), options)
}

/// Reads CSV text from `bytes`; `source` names it in error messages (a file name or `<memory>`).
pub fn read_csv_bytes(bytes: &[u8], source: &str, options: &CsvOptions) -> Result<CsvTable> {
    let (text, encoding) = decode(bytes, source, options.encoding)?;
    let records = parse_records(&text, source, options)?;
    let Some(first) = records.first() else {
        bail!(
            Format,
            "read_csv: {source} is empty (no rows{})",
            if options.comment.is_some() {
                " besides comments"
            } else {
                ""
            }
        );
    };
    let width = first.fields.len();
    for r in &records[1..] {
        if r.fields.len() != width {
            bail!(
                Format,
                "read_csv: {source}, line {}: {} fields where line {} has {width}",
                r.line,
                r.fields.len(),
                first.line
            );
        }
    }
    let is_na = |s: &str| options.na_values.iter().any(|na| na == s);
    let has_header = match options.header {
        Header::Present => true,
        Header::Absent => false,
        Header::Auto => detect_header(&records, &is_na),
    };
    let (names, data) = if has_header {
        (records[0].fields.clone(), &records[1..])
    } else {
        ((0..width).map(|i| i.to_string()).collect(), &records[..])
    };

    let resolve = |c: &ColumnRef| -> Result<usize> {
        match c {
            ColumnRef::Index(i) if *i < width => Ok(*i),
            ColumnRef::Index(i) => bail!(
                Index,
                "read_csv: {source}: column index {i} out of range for {width} columns"
            ),
            ColumnRef::Name(n) => names.iter().position(|m| m == n).ok_or_else(|| {
                Error::Index(format!(
                    "read_csv: {source}: no column named {n:?} (columns: {names:?})"
                ))
            }),
        }
    };
    let selected: Vec<usize> = match &options.columns {
        Some(cols) => cols.iter().map(resolve).collect::<Result<_>>()?,
        None => (0..width).collect(),
    };
    let categorical: Vec<usize> = options
        .categorical
        .iter()
        .map(resolve)
        .collect::<Result<_>>()?;

    let mut columns = Vec::with_capacity(selected.len());
    for &c in &selected {
        let values = data.iter().map(|r| r.fields[c].as_str());
        let first_value = data
            .iter()
            .map(|r| r.fields[c].as_str())
            .find(|v| !is_na(v));
        let numeric =
            !categorical.contains(&c) && first_value.is_none_or(|v| parse_number(v).is_some());
        columns.push(if numeric {
            let mut out = Vec::with_capacity(data.len());
            for (r, v) in data.iter().zip(values) {
                if is_na(v) {
                    out.push(f64::NAN);
                } else if let Some(x) = parse_number(v) {
                    out.push(x);
                } else {
                    bail!(
                        Format,
                        "read_csv: {source}, line {}, column {:?}: {v:?} is not a number (the column is numeric from its first value {:?}; list it in `categorical` to read it as labels)",
                        r.line,
                        names[c],
                        first_value.unwrap_or_default()
                    );
                }
            }
            Column::Numeric(out)
        } else {
            label_encode(values, &is_na)
        });
    }
    Ok(CsvTable {
        source: source.to_string(),
        encoding,
        names: selected.iter().map(|&c| names[c].clone()).collect(),
        columns,
        rows: data.len(),
    })
}

/// The text of `bytes` and the encoding it was read with.
fn decode<'a>(
    bytes: &'a [u8],
    source: &str,
    encoding: Encoding,
) -> Result<(Cow<'a, str>, Encoding)> {
    let as_utf8 = |b: &'a [u8]| -> std::result::Result<Cow<'a, str>, std::str::Utf8Error> {
        let b = b.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(b);
        std::str::from_utf8(b).map(Cow::Borrowed)
    };
    let as_euc_kr =
        |b: &'a [u8]| encoding_rs::EUC_KR.decode_without_bom_handling_and_without_replacement(b);
    let line_of = |offset: usize| bytes[..offset].iter().filter(|&&b| b == b'\n').count() + 1;
    match encoding {
        Encoding::Utf8 => match as_utf8(bytes) {
            Ok(t) => Ok((t, Encoding::Utf8)),
            Err(e) => {
                let bom = if bytes.starts_with(b"\xEF\xBB\xBF") {
                    3
                } else {
                    0
                };
                let at = e.valid_up_to() + bom;
                bail!(
                    Format,
                    "read_csv: {source}, line {}: invalid UTF-8 at byte {at} (try Encoding::EucKr or Encoding::Auto for a Korean CP949 file)",
                    line_of(at)
                )
            }
        },
        Encoding::EucKr => match as_euc_kr(bytes) {
            Some(t) => Ok((t, Encoding::EucKr)),
            None => bail!(
                Format,
                "read_csv: {source}: bytes that are not valid EUC-KR/CP949"
            ),
        },
        Encoding::Auto => match as_utf8(bytes) {
            Ok(t) => Ok((t, Encoding::Utf8)),
            Err(e) => match as_euc_kr(bytes) {
                Some(t) => Ok((t, Encoding::EucKr)),
                None => {
                    let at = e.valid_up_to();
                    bail!(
                        Format,
                        "read_csv: {source}, line {}: neither UTF-8 (invalid byte at {at}) nor EUC-KR/CP949",
                        line_of(at)
                    )
                }
            },
        },
    }
}

struct Record {
    /// The line the record starts on, 1-based, counting every line of the file.
    line: u64,
    fields: Vec<String>,
}

fn parse_records(text: &str, source: &str, options: &CsvOptions) -> Result<Vec<Record>> {
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(options.delimiter)
        .comment(options.comment)
        .trim(if options.trim {
            ::csv::Trim::All
        } else {
            ::csv::Trim::None
        })
        .from_reader(text.as_bytes());
    let mut records = Vec::new();
    let mut record = ::csv::StringRecord::new();
    let mut lines = LineCounter {
        text: text.as_bytes(),
        byte: 0,
        line: 1,
        comment: options.comment,
    };
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                // A line of only spaces (or a stray delimiter-free blank) is no record.
                if record.len() == 1 && record[0].is_empty() {
                    continue;
                }
                let start = record.position().map_or(0, |p| p.byte() as usize);
                records.push(Record {
                    line: lines.line_of_record(start),
                    fields: record.iter().map(str::to_string).collect(),
                });
            }
            Err(e) => {
                let line = lines.line_of_record(e.position().map_or(0, |p| p.byte() as usize));
                bail!(Format, "read_csv: {source}, line {line}: {e}");
            }
        }
    }
    Ok(records)
}

/// Line numbers of records as a person counts them in the file. The csv crate's own line count
/// leaves out comment lines and starts a record at the terminator of the previous one, so we
/// count newlines up to the byte where it starts looking, then step over line terminators,
/// comment lines and blank lines to where the record really begins.
struct LineCounter<'a> {
    text: &'a [u8],
    /// A position at or before the next record's start, and its 1-based line.
    byte: usize,
    line: u64,
    comment: Option<u8>,
}

impl LineCounter<'_> {
    fn line_of_record(&mut self, start: usize) -> u64 {
        let start = start.clamp(self.byte, self.text.len());
        self.line += self.text[self.byte..start]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64;
        self.byte = start;
        loop {
            let rest = &self.text[self.byte..];
            let line_len = rest.iter().position(|&b| b == b'\n');
            let this_line = &rest[..line_len.unwrap_or(rest.len())];
            let skippable = self.comment.is_some_and(|c| this_line.first() == Some(&c))
                || this_line.iter().all(u8::is_ascii_whitespace);
            match line_len {
                Some(len) if skippable => {
                    self.byte += len + 1;
                    self.line += 1;
                }
                _ => return self.line,
            }
        }
    }
}

/// A number as the CSV holds it (`1`, `-0.5`, `1e-3`, `inf`).
fn parse_number(s: &str) -> Option<f64> {
    s.parse::<f64>().ok()
}

fn detect_header(records: &[Record], is_na: &impl Fn(&str) -> bool) -> bool {
    let first = &records[0].fields;
    let textual = |v: &str| !is_na(v) && parse_number(v).is_none();
    match records.get(1) {
        Some(next) => first
            .iter()
            .zip(&next.fields)
            .any(|(h, v)| textual(h) && parse_number(v).is_some()),
        None => first.iter().all(|v| textual(v)),
    }
}

fn label_encode<'a>(
    values: impl Iterator<Item = &'a str> + Clone,
    is_na: &impl Fn(&str) -> bool,
) -> Column {
    let mut classes: Vec<String> = values
        .clone()
        .filter(|v| !is_na(v))
        .map(str::to_string)
        .collect();
    classes.sort_unstable();
    classes.dedup();
    let codes = values
        .map(|v| {
            if is_na(v) {
                -1
            } else {
                classes
                    .binary_search_by(|c| c.as_str().cmp(v))
                    .map_or(-1, |i| i as i64)
            }
        })
        .collect();
    Column::Categorical { codes, classes }
}

/// A column given by name (`"x1"`, `String`) or by position (`0usize`, `0i32`), for
/// [`CsvTable`]'s accessors.
pub trait ColumnKey {
    fn to_ref(&self) -> ColumnRef;
}
impl ColumnKey for &str {
    fn to_ref(&self) -> ColumnRef {
        ColumnRef::Name(self.to_string())
    }
}
impl ColumnKey for String {
    fn to_ref(&self) -> ColumnRef {
        ColumnRef::Name(self.clone())
    }
}
impl ColumnKey for usize {
    fn to_ref(&self) -> ColumnRef {
        ColumnRef::Index(*self)
    }
}
/// So that integer literals work (`table.column(0)`); a negative position is out of range.
impl ColumnKey for i32 {
    fn to_ref(&self) -> ColumnRef {
        ColumnRef::Index(usize::try_from(*self).unwrap_or(usize::MAX))
    }
}
impl ColumnKey for ColumnRef {
    fn to_ref(&self) -> ColumnRef {
        self.clone()
    }
}

impl CsvTable {
    /// The file (or name) the table was read from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The encoding the text was decoded with (`Utf8` or `EucKr`, never `Auto`).
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// The column names (`"0"`, `"1"`, ... for a file without a header).
    pub fn names(&self) -> &[String] {
        &self.names
    }

    pub fn num_rows(&self) -> usize {
        self.rows
    }

    pub fn num_columns(&self) -> usize {
        self.columns.len()
    }

    /// The position of a column.
    pub fn index_of(&self, key: impl ColumnKey) -> Result<usize> {
        match key.to_ref() {
            ColumnRef::Index(i) if i < self.columns.len() => Ok(i),
            ColumnRef::Index(i) => bail!(
                Index,
                "CsvTable: column index {} out of range for {} columns of {}",
                i as isize,
                self.columns.len(),
                self.source
            ),
            ColumnRef::Name(n) => self.names.iter().position(|m| *m == n).ok_or_else(|| {
                Error::Index(format!(
                    "CsvTable: no column named {n:?} in {} (columns: {:?})",
                    self.source, self.names
                ))
            }),
        }
    }

    /// The values of a column.
    pub fn values(&self, key: impl ColumnKey) -> Result<&Column> {
        Ok(&self.columns[self.index_of(key)?])
    }

    /// A column as a tensor `[rows]`: f32 for a numeric one, the i64 codes for a categorical one.
    pub fn column(&self, key: impl ColumnKey) -> Result<Tensor> {
        Ok(match self.values(key)? {
            Column::Numeric(v) => Tensor::from_slice(v, [v.len()]).to_f32(),
            Column::Categorical { codes, .. } => Tensor::from_slice(codes, [codes.len()]),
        })
    }

    /// The given columns side by side as an f32 tensor `[rows, columns]` (categorical columns
    /// give their codes; missing values are NaN).
    pub fn to_tensor<K: ColumnKey>(&self, keys: &[K]) -> Result<Tensor> {
        self.to_tensor_dtype(keys, DType::F32)
    }

    /// [`CsvTable::to_tensor`] with a float dtype of choice (f32 or f64).
    pub fn to_tensor_dtype<K: ColumnKey>(&self, keys: &[K], dtype: DType) -> Result<Tensor> {
        if !dtype.is_float() {
            bail!(
                DType,
                "CsvTable::to_tensor: expects a float dtype, got {dtype} (use labels for classes)"
            );
        }
        let cols: Vec<&Column> = keys
            .iter()
            .map(|k| self.values(k.to_ref()))
            .collect::<Result<_>>()?;
        let mut data = Vec::with_capacity(self.rows * cols.len());
        for r in 0..self.rows {
            data.extend(cols.iter().map(|c| c.value(r)));
        }
        Ok(Tensor::from_vec(data, [self.rows, cols.len()]).to_dtype(dtype))
    }

    /// All columns as an f32 tensor `[rows, columns]`.
    pub fn to_tensor_all(&self) -> Result<Tensor> {
        let all: Vec<usize> = (0..self.columns.len()).collect();
        self.to_tensor(&all)
    }

    /// A column as class indices (i64 `[rows]`): a categorical column's codes, or a numeric
    /// column whose values are whole numbers (the zoo's type 0-6).
    pub fn labels(&self, key: impl ColumnKey) -> Result<Tensor> {
        let i = self.index_of(key)?;
        match &self.columns[i] {
            Column::Categorical { codes, .. } => Ok(Tensor::from_slice(codes, [codes.len()])),
            Column::Numeric(v) => {
                if let Some(r) = v.iter().position(|x| x.fract() != 0.0 || !x.is_finite()) {
                    bail!(
                        Invalid,
                        "CsvTable::labels: column {:?} of {} has {} in data row {r}, not a class index",
                        self.names[i],
                        self.source,
                        v[r]
                    );
                }
                Ok(Tensor::from_vec(
                    v.iter().map(|&x| x as i64).collect::<Vec<_>>(),
                    [v.len()],
                ))
            }
        }
    }

    /// The labels behind a categorical column's codes (code `k` is `classes[k]`).
    pub fn classes(&self, key: impl ColumnKey) -> Result<&[String]> {
        let i = self.index_of(key)?;
        match &self.columns[i] {
            Column::Categorical { classes, .. } => Ok(classes),
            Column::Numeric(_) => bail!(
                Invalid,
                "CsvTable::classes: column {:?} of {} is numeric, not categorical",
                self.names[i],
                self.source
            ),
        }
    }

    /// The label of code `code` in a categorical column (scikit-learn's `inverse_transform`).
    pub fn decode(&self, key: impl ColumnKey, code: i64) -> Result<&str> {
        let classes = self.classes(key)?;
        usize::try_from(code)
            .ok()
            .and_then(|c| classes.get(c))
            .map(String::as_str)
            .ok_or_else(|| {
                Error::Index(format!(
                    "CsvTable::decode: code {code} out of range for {} classes",
                    classes.len()
                ))
            })
    }

    /// The table without the rows that miss a value in any of the given columns (pandas'
    /// `dropna(subset=...)`); no keys means all columns.
    pub fn drop_missing<K: ColumnKey>(&self, keys: &[K]) -> Result<CsvTable> {
        let cols: Vec<usize> = if keys.is_empty() {
            (0..self.columns.len()).collect()
        } else {
            keys.iter()
                .map(|k| self.index_of(k.to_ref()))
                .collect::<Result<_>>()?
        };
        let keep: Vec<usize> = (0..self.rows)
            .filter(|&r| cols.iter().all(|&c| !self.columns[c].is_missing(r)))
            .collect();
        let columns = self
            .columns
            .iter()
            .map(|c| match c {
                Column::Numeric(v) => Column::Numeric(keep.iter().map(|&r| v[r]).collect()),
                Column::Categorical { codes, classes } => Column::Categorical {
                    codes: keep.iter().map(|&r| codes[r]).collect(),
                    classes: classes.clone(),
                },
            })
            .collect();
        Ok(CsvTable {
            source: self.source.clone(),
            encoding: self.encoding,
            names: self.names.clone(),
            columns,
            rows: keep.len(),
        })
    }
}
