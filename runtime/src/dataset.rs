//! A recorded dataset in KITTI object layout: `velodyne/NNNNNN.bin`, `image_2/NNNNNN.png`,
//! `calib/NNNNNN.txt` and optionally `label_2/NNNNNN.txt` (Geiger et al., CVPR 2012,
//! devkit `readme.txt`). Frames are listed from `velodyne/` and sorted by name.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// One frame's files. Any of them may turn out missing or corrupt; the replay reports that
/// frame and goes on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KittiFrame {
    /// Frame name, e.g. `000000`.
    pub name: String,
    /// Velodyne scan.
    pub velodyne: PathBuf,
    /// Left colour image (camera 2).
    pub image: PathBuf,
    /// Calibration text.
    pub calib: PathBuf,
}

/// Lists the frames of a KITTI object folder, sorted by name.
///
/// # Errors
/// When `root` or `root/velodyne` is not a readable directory, or holds no `.bin` file.
pub fn list_frames(root: &Path) -> anyhow::Result<Vec<KittiFrame>> {
    let velodyne_dir = root.join("velodyne");
    if !velodyne_dir.is_dir() {
        bail!(
            "dataset `{}` has no `velodyne/` folder: expected KITTI object layout \
             (velodyne/, image_2/, calib/, optional label_2/)",
            root.display()
        );
    }
    let entries = std::fs::read_dir(&velodyne_dir)
        .with_context(|| format!("cannot list `{}`", velodyne_dir.display()))?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot list `{}`", velodyne_dir.display()))?;
        let path = entry.path();
        if path.extension().is_some_and(|ext| ext == "bin")
            && let Some(stem) = path.file_stem().and_then(|stem| stem.to_str())
        {
            names.push(stem.to_owned());
        }
    }
    names.sort();
    if names.is_empty() {
        bail!("dataset `{}`: `velodyne/` holds no .bin scan", root.display());
    }
    Ok(names
        .into_iter()
        .map(|name| KittiFrame {
            velodyne: velodyne_dir.join(format!("{name}.bin")),
            image: root.join("image_2").join(format!("{name}.png")),
            calib: root.join("calib").join(format!("{name}.txt")),
            name,
        })
        .collect())
}
