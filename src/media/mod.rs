//! Files captured on site: photos checked by their content, stripped of metadata but
//! their time and position, with a thumbnail; and the object store that keeps them.

pub mod objects;
pub mod photo;
