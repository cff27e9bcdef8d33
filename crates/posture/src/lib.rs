//! Security findings as demarc sees them: who must fix what, by when.
//!
//! - [`read`]: Prowler OCSF (classes 2001 and 2004), AWS Security Hub ASFF and SARIF 2.1.0,
//!   recognised from their content and streamed: the findings array is split into elements
//!   by a byte scanner and each element is parsed on a worker thread, so a file of 1.5M
//!   findings is read in memory that does not grow with it. A malformed or truncated file is
//!   an error with its byte offset and the number of the finding.
//! - [`Finding`]: the normalised form, stored in dated snapshots ([`snapshot`]).
//! - [`CheckTable`]: tool check id → catalog control (built-in `checks/prowler.yaml`), with
//!   fallbacks on the finding's NIST SP 800-53 references, categories and resource type.
//! - [`Attributor`]: finding → control → asset → the cell's responsible party, the SLA the
//!   contract sets for the duty the finding implies, and a due date (first seen + SLA).
//!
//! Pure: no clock (the as-of date is an argument) and no file system (readers and writers are
//! passed in).

mod attribute;
mod finding;
mod formats;
pub mod read;
pub mod snapshot;
mod summary;
mod table;

pub use attribute::{AssetMatch, Attribution, Attributor, ControlVia, PartyContact, Route};
pub use finding::{Finding, Kind, Resource, Severity, SourceFormat, Status};
pub use read::{ReadError, ReadOptions, ReadSummary, read_findings};
pub use summary::{Fact, Group, GroupBy, Summary, Tally, placeholder};
pub use table::{CheckTable, TableEntry};
