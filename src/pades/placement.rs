//! Where a visible signature goes: from the caller's view of a page (the CropBox as displayed,
//! after `/Rotate`, origin lower-left) to the rectangle in default user space, and the appearance
//! matrix that keeps the drawing upright on a rotated page.

use crate::pdf::Page;

/// A page as the user sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct View {
    crop: [f64; 4],
    rotate: i64,
}

impl View {
    pub fn of(page: &Page) -> Self {
        Self {
            crop: page.crop_box,
            rotate: page.rotate,
        }
    }

    /// Width and height as displayed.
    pub fn size(&self) -> (f64, f64) {
        let w = self.crop[2] - self.crop[0];
        let h = self.crop[3] - self.crop[1];
        if self.rotate % 180 == 0 {
            (w, h)
        } else {
            (h, w)
        }
    }

    /// A point in view coordinates → default user space (§8.3.2.3, §7.7.3.3 /Rotate is clockwise).
    pub fn to_user(&self, vx: f64, vy: f64) -> (f64, f64) {
        let [x0, y0, x1, y1] = self.crop;
        match self.rotate {
            90 => (x1 - vy, y0 + vx),
            180 => (x1 - vx, y1 - vy),
            270 => (x0 + vy, y1 - vx),
            _ => (x0 + vx, y0 + vy),
        }
    }

    /// A point in default user space → view coordinates (inverse of [`to_user`](Self::to_user)).
    pub fn to_view(&self, ux: f64, uy: f64) -> (f64, f64) {
        let [x0, y0, x1, y1] = self.crop;
        match self.rotate {
            90 => (uy - y0, x1 - ux),
            180 => (x1 - ux, y1 - uy),
            270 => (y1 - uy, ux - x0),
            _ => (ux - x0, uy - y0),
        }
    }

    /// A view rectangle `(x, y, w, h)` → `[llx lly urx ury]` in user space.
    pub fn rect_to_user(&self, x: f64, y: f64, w: f64, h: f64) -> [f64; 4] {
        let (ax, ay) = self.to_user(x, y);
        let (bx, by) = self.to_user(x + w, y + h);
        [ax.min(bx), ay.min(by), ax.max(bx), ay.max(by)]
    }

    /// A user-space box → `(x, y, w, h)` in view coordinates.
    pub fn rect_to_view(&self, r: [f64; 4]) -> (f64, f64, f64, f64) {
        let (ax, ay) = self.to_view(r[0], r[1]);
        let (bx, by) = self.to_view(r[2], r[3]);
        (ax.min(bx), ay.min(by), (ax - bx).abs(), (ay - by).abs())
    }

    /// Whether a view rectangle lies within the visible page (with a small tolerance for
    /// rounding in callers' arithmetic).
    pub fn contains(&self, x: f64, y: f64, w: f64, h: f64) -> bool {
        let (pw, ph) = self.size();
        let eps = 0.01;
        [x, y, w, h].iter().all(|v| v.is_finite())
            && w > 0.0
            && h > 0.0
            && x >= -eps
            && y >= -eps
            && x + w <= pw + eps
            && y + h <= ph + eps
    }

    /// The appearance stream `/Matrix` (§12.5.5) for a drawing made upright in view orientation
    /// with `/BBox [0 0 w h]`: rotates it by the page's rotation, counter-clockwise.
    pub fn appearance_matrix(&self) -> [f64; 6] {
        match self.rotate {
            90 => [0.0, 1.0, -1.0, 0.0, 0.0, 0.0],
            180 => [-1.0, 0.0, 0.0, -1.0, 0.0, 0.0],
            270 => [0.0, -1.0, 1.0, 0.0, 0.0, 0.0],
            _ => [1.0, 0.0, 0.0, 1.0, 0.0, 0.0],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(rotate: i64) -> View {
        View {
            crop: [10.0, 20.0, 110.0, 220.0],
            rotate,
        }
    }

    #[test]
    fn round_trips_in_every_rotation() {
        for r in [0, 90, 180, 270] {
            let v = view(r);
            for (x, y) in [(0.0, 0.0), (5.0, 7.0), (33.0, 1.5)] {
                let (ux, uy) = v.to_user(x, y);
                let (bx, by) = v.to_view(ux, uy);
                assert!((bx - x).abs() < 1e-9 && (by - y).abs() < 1e-9, "rotate {r}");
            }
        }
    }

    #[test]
    fn rotate_90_puts_view_origin_at_user_lower_right() {
        // /Rotate 90 turns the page clockwise: the user-space lower-right corner is displayed at
        // the lower-left.
        let v = view(90);
        assert_eq!(v.size(), (200.0, 100.0));
        assert_eq!(v.to_user(0.0, 0.0), (110.0, 20.0));
        assert_eq!(
            v.rect_to_user(0.0, 0.0, 50.0, 10.0),
            [100.0, 20.0, 110.0, 70.0]
        );
        assert!(v.contains(150.0, 90.0, 50.0, 10.0));
        assert!(!v.contains(150.0, 95.0, 50.0, 10.0));
    }
}
