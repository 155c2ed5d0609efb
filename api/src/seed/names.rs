//! Clearly fictional Vietnamese demo people: common family, middle and given names combined at
//! random. Any resemblance to a real person is chance; no phone numbers are generated.

use rand::seq::IndexedRandom;
use rand::RngExt;

use crate::domain::Sex;

const FAMILY: [&str; 14] = [
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô", "Dương", "Đinh",
    "Phan", "Lương",
];
const MALE_MIDDLE: [&str; 6] = ["Văn", "Đức", "Minh", "Quang", "Hữu", "Xuân"];
const FEMALE_MIDDLE: [&str; 5] = ["Thị", "Thu", "Ngọc", "Thanh", "Minh"];
const MALE_GIVEN: [&str; 20] = [
    "Hùng", "Dũng", "Thắng", "Cường", "Tuấn", "Long", "Sơn", "Hải", "Phúc", "Quý", "Toàn", "Khánh",
    "Đạt", "Hiếu", "Nam", "Bình", "Tiến", "Trọng", "Lâm", "Vinh",
];
const FEMALE_GIVEN: [&str; 20] = [
    "Lan",
    "Hoa",
    "Hương",
    "Mai",
    "Hằng",
    "Nga",
    "Thảo",
    "Trang",
    "Huyền",
    "Yến",
    "Linh",
    "Loan",
    "Nhung",
    "Oanh",
    "Phượng",
    "Quyên",
    "Tâm",
    "Vân",
    "Xuân",
    "Hạnh",
];

fn pick<'a, R: rand::Rng>(rng: &mut R, list: &'a [&'a str]) -> &'a str {
    list.choose(rng).copied().unwrap_or("An")
}

/// A full name; children take the family name passed in.
pub fn person<R: rand::Rng>(rng: &mut R, sex: Sex, family: Option<&str>) -> String {
    let family = family
        .map(str::to_owned)
        .unwrap_or_else(|| pick(rng, &FAMILY).to_owned());
    let (middle, given) = match sex {
        Sex::Female => (pick(rng, &FEMALE_MIDDLE), pick(rng, &FEMALE_GIVEN)),
        _ => (pick(rng, &MALE_MIDDLE), pick(rng, &MALE_GIVEN)),
    };
    format!("{family} {middle} {given}")
}

pub fn random_sex<R: rand::Rng>(rng: &mut R) -> Sex {
    if rng.random_bool(0.5) {
        Sex::Male
    } else {
        Sex::Female
    }
}
