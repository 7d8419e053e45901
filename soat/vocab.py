"""Vocabularies of the data contract (shared/spec/data-contract.md).

Everything here is plain data: the loaders turn it into DuckDB mapping tables,
the checks read those tables, the sample generator draws from the same lists.
"""

from __future__ import annotations

import unicodedata

LEVELS = ("MN", "TH", "THCS", "THPT", "GDTX")
LEVEL_NAMES = {
    "MN": "Mầm non",
    "TH": "Tiểu học",
    "THCS": "Trung học cơ sở",
    "THPT": "Trung học phổ thông",
    "GDTX": "Giáo dục thường xuyên",
}

GRADES = ("NT", "MG3", "MG4", "MG5", *[str(g) for g in range(1, 13)])
GRADE_ALIASES = {
    "Nhà trẻ": "NT",
    "Mẫu giáo 3-4 tuổi": "MG3",
    "Mẫu giáo 4-5 tuổi": "MG4",
    "Mẫu giáo 5-6 tuổi": "MG5",
}


def grade_level(grade: str) -> str | None:
    """Level of a canonical grade, for a school that is not GDTX."""
    if grade in ("NT", "MG3", "MG4", "MG5"):
        return "MN"
    if grade.isdigit():
        g = int(grade)
        if 1 <= g <= 5:
            return "TH"
        if 6 <= g <= 9:
            return "THCS"
        if 10 <= g <= 12:
            return "THPT"
    return None


# (canonical code, Vietnamese label, other accepted names)
PERIODS = {
    "dau_nam": ("Đầu năm", ()),
    "giua_nam": ("Giữa năm", ("Học kỳ I", "Học kỳ 1", "HK1", "HKI", "Cuối học kỳ I")),
    "cuoi_nam": ("Cuối năm", ("Cuối năm học",)),
}
MONTHLY_PERIOD_PREFIX = "thang_"  # thang_01 … thang_12, Vietnamese "Tháng 9"

DATA_TYPES = {
    "staff": ("Cán bộ", ("Hồ sơ CBGV", "CBGV", "Cán bộ giáo viên", "Hồ sơ cán bộ")),
    "students": ("Học sinh", ("Hồ sơ học sinh",)),
    "classes": ("Lớp học", ("Lớp",)),
    "rooms": ("Phòng học", ("Cơ sở vật chất", "CSVC")),
    "budget": ("Ngân sách", ("Ngân sách nhà nước",)),
}
DATA_TYPE_ORDER = ("staff", "students", "classes", "rooms", "budget")

TARGETS = {"Sở": ("So", "Province", "CSDL ngành"), "Bộ": ("Bo", "Ministry", "MOET")}

GENDERS = ("Nam", "Nữ")
ID_VERIFIED = ("Đã xác thực", "Chưa xác thực", "Sai thông tin")
STUDENT_STATUS = ("Đang học", "Chuyển đi", "Thôi học", "Tốt nghiệp", "Bảo lưu")
STAFF_STATUS = ("Đang làm việc", "Nghỉ hưu", "Chuyển công tác", "Nghỉ việc")
SCHOOL_STATUS = ("Hoạt động", "Sáp nhập", "Giải thể")
# what school software writes besides (the loader maps them; a status outside the list is
# kept as typed and the school counts as active, as p_schools has it)
SCHOOL_STATUS_ALIASES = {
    "Đang hoạt động": "Hoạt động",
    "Đã sáp nhập": "Sáp nhập",
    "Đã giải thể": "Giải thể",
}
POSITIONS = ("Hiệu trưởng", "Phó hiệu trưởng", "Giáo viên", "Nhân viên")
CONTRACTS = ("Biên chế", "Hợp đồng lao động", "Hợp đồng dưới 1 năm", "Thỉnh giảng")
QUALIFICATIONS = ("Trung cấp", "Cao đẳng", "Đại học", "Thạc sĩ", "Tiến sĩ", "Khác")
QUALIFICATION_RANK = {q: i for i, q in enumerate(QUALIFICATIONS[:-1])}  # Khác: unranked
OWNERSHIP = ("Công lập", "Tư thục", "Dân lập")
NATIONAL_STANDARD = ("Chưa đạt", "Mức 1", "Mức 2")
ACCREDITATION = ("Chưa", "Cấp độ 1", "Cấp độ 2", "Cấp độ 3", "Cấp độ 4")
INTERNET = ("Có", "Không")
UNIT_TIERS = ("Sở", "Phòng", "Xã")
ROOM_TYPES = ("Phòng học", "Phòng bộ môn", "Phòng hỗ trợ học tập", "Phòng khác")
SUBMISSION_RESULTS = ("Thành công", "Thất bại")

ETHNICITIES = (
    "Kinh",
    "Tày",
    "Thái",
    "Hoa",
    "Khmer",
    "Mường",
    "Nùng",
    "Mông",
    "Dao",
    "Gia Rai",
    "Ngái",
    "Ê Đê",
    "Ba Na",
    "Xơ Đăng",
    "Sán Chay",
    "Cơ Ho",
    "Chăm",
    "Sán Dìu",
    "Hrê",
    "Mnông",
    "Raglai",
    "Xtiêng",
    "Bru-Vân Kiều",
    "Thổ",
    "Giáy",
    "Cơ Tu",
    "Giẻ Triêng",
    "Mạ",
    "Khơ Mú",
    "Co",
    "Tà Ôi",
    "Chơ Ro",
    "Kháng",
    "Xinh Mun",
    "Hà Nhì",
    "Chu Ru",
    "Lào",
    "La Chí",
    "La Ha",
    "Phù Lá",
    "La Hủ",
    "Lự",
    "Lô Lô",
    "Chứt",
    "Mảng",
    "Pà Thẻn",
    "Cơ Lao",
    "Cống",
    "Bố Y",
    "Si La",
    "Pu Péo",
    "Brâu",
    "Ơ Đu",
    "Rơ Măm",
)
ETHNICITY_VARIANTS = {
    "H'Mông": "Mông",
    "Hmông": "Mông",
    "Khơ-me": "Khmer",
    "Ê-đê": "Ê Đê",
    "Gia-rai": "Gia Rai",
    "Raglay": "Raglai",
}

# Citizen-ID province prefixes (PPP), valid before and after the 2025 merger.
PROVINCE_CODES = {
    "001": "Hà Nội",
    "002": "Hà Giang",
    "004": "Cao Bằng",
    "006": "Bắc Kạn",
    "008": "Tuyên Quang",
    "010": "Lào Cai",
    "011": "Điện Biên",
    "012": "Lai Châu",
    "014": "Sơn La",
    "015": "Yên Bái",
    "017": "Hòa Bình",
    "019": "Thái Nguyên",
    "020": "Lạng Sơn",
    "022": "Quảng Ninh",
    "024": "Bắc Giang",
    "025": "Phú Thọ",
    "026": "Vĩnh Phúc",
    "027": "Bắc Ninh",
    "030": "Hải Dương",
    "031": "Hải Phòng",
    "033": "Hưng Yên",
    "034": "Thái Bình",
    "035": "Hà Nam",
    "036": "Nam Định",
    "037": "Ninh Bình",
    "038": "Thanh Hóa",
    "040": "Nghệ An",
    "042": "Hà Tĩnh",
    "044": "Quảng Bình",
    "045": "Quảng Trị",
    "046": "Thừa Thiên Huế",
    "048": "Đà Nẵng",
    "049": "Quảng Nam",
    "051": "Quảng Ngãi",
    "052": "Bình Định",
    "054": "Phú Yên",
    "056": "Khánh Hòa",
    "058": "Ninh Thuận",
    "060": "Bình Thuận",
    "062": "Kon Tum",
    "064": "Gia Lai",
    "066": "Đắk Lắk",
    "067": "Đắk Nông",
    "068": "Lâm Đồng",
    "070": "Bình Phước",
    "072": "Tây Ninh",
    "074": "Bình Dương",
    "075": "Đồng Nai",
    "077": "Bà Rịa – Vũng Tàu",
    "079": "TP Hồ Chí Minh",
    "080": "Long An",
    "082": "Tiền Giang",
    "083": "Bến Tre",
    "084": "Trà Vinh",
    "086": "Vĩnh Long",
    "087": "Đồng Tháp",
    "089": "An Giang",
    "091": "Kiên Giang",
    "092": "Cần Thơ",
    "093": "Hậu Giang",
    "094": "Sóc Trăng",
    "095": "Bạc Liêu",
    "096": "Cà Mau",
}
assert len(PROVINCE_CODES) == 63

EMPTY_MARKERS = ("", "-", "--", "N/A", "null")


def fold(text: str) -> str:
    """Key used to compare headers and names: NFC, trimmed, inner spaces collapsed, casefolded."""
    text = unicodedata.normalize("NFC", str(text)).strip()
    return " ".join(text.split()).casefold()


def strip_diacritics(text: str) -> str:
    """Vietnamese without diacritics: 'Mã trường' -> 'Ma truong'."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if not unicodedata.combining(c))
    )


def name_key(text: str) -> str:
    """Key for table/file names: folded, diacritics removed, spaces, '-' and '_' dropped."""
    key = strip_diacritics(fold(text))
    return "".join(c for c in key if c not in " -_")
