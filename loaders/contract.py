"""The data contract as data: tables, their accepted names, columns and kinds.

Single source of truth for the loaders (header matching, typing, normalisation),
the snapshot schema (soat.store) and the sample generator. See
shared/spec/data-contract.md; the English names here are the canonical column names
stored in DuckDB.

Column kinds:
  code        identifier text (school, class, student … codes), never a number
  text        free text (NFC, trimmed, empty markers -> NULL)
  citizen_id  12-digit text; a number from an .xlsx cell is left-padded to 12
  date        stored as DATE + `<name>_raw`: the text, only where it could not be parsed
  timestamp   stored as TIMESTAMP + `<name>_raw`
  int         stored as BIGINT + `<name>_raw`
  number      stored as DOUBLE + `<name>_raw`
  school_year canonical 'YYYY-YYYY'
  levels      list of level codes (VARCHAR[]) + `levels_raw` (where the list is empty)
  grade       canonical grade (NT, MG3, MG4, MG5, 1 … 12) or the raw text
  period      canonical period (dau_nam, giua_nam, cuoi_nam, thang_MM) or the raw text
  data_type   canonical data type (staff, students, classes, rooms, budget) or raw
  target      'Sở' / 'Bộ' or raw
  codes       list of codes (VARCHAR[]) split on ',' ';'
  vocab:NAME  a closed vocabulary of soat.vocab, stored canonical when matched,
              else the trimmed text (the *.invalid_value checks flag it)
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Column:
    name: str
    headers: tuple[str, ...]  # Vietnamese headers (and other accepted spellings)
    kind: str = "text"
    required: bool = False
    default: str | None = None  # value an empty cell takes (status columns)

    @property
    def all_headers(self) -> tuple[str, ...]:
        return (self.name, *self.headers)


@dataclass(frozen=True)
class Table:
    name: str
    aliases: tuple[str, ...]
    columns: tuple[Column, ...]
    label: str = ""  # Vietnamese label for messages
    keys: tuple[str, ...] = field(default=())  # columns that identify a row in messages

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


C = Column

_PERSON = (
    C(
        "full_name",
        (
            "Họ và tên",
            "Họ tên",
            # header variants offices use (SMAS/VnEDU exports, hand-made lists)
            "Họ tên học sinh",
            "Họ và tên học sinh",
            "Họ tên HS",
            "Họ và tên HS",
            "Họ tên cán bộ",
            "Họ và tên cán bộ",
            "Họ tên giáo viên",
            "Họ và tên giáo viên",
            "Họ tên CBGV",
            "Họ và tên CBGV",
        ),
        "text",
        True,
    ),
    C(
        "birth_date",
        (
            "Ngày sinh",
            "Ngày tháng năm sinh",
            "Ngày/tháng/năm sinh",
            "Ngày, tháng, năm sinh",
            "Ngày sinh (dd/mm/yyyy)",
            "Ngày sinh (ngày/tháng/năm)",
        ),
        "date",
        True,
    ),
    C("gender", ("Giới tính", "Giới", "Giới tính (Nam/Nữ)", "Nam/Nữ"), "vocab:gender", True),
    C("ethnicity", ("Dân tộc",), "vocab:ethnicity", True),
    C(
        "citizen_id",
        (
            "Số định danh cá nhân",
            "Số CCCD",
            "Mã định danh",
            "CCCD",
            "Số định danh",
            "Số CCCD/Mã định danh",
            "Mã định danh/Số CCCD",
            "Số định danh cá nhân/CCCD",
            "Số CCCD/Số định danh",
            "Mã định danh cá nhân",
            "Số căn cước công dân",
            "Căn cước công dân",
            "Số căn cước",
            "Số ĐDCN",
            "Số CCCD/CMND",
            "Số CMND/CCCD",
            "CMND/CCCD",
            "CCCD/CMND",
        ),
        "citizen_id",
        True,
    ),
    C(
        "id_verified",
        (
            "Xác thực định danh",
            "Trạng thái xác thực",
            "Tình trạng xác thực",
            "Trạng thái xác thực định danh",
            "Kết quả xác thực",
            "Xác thực CSDL dân cư",
        ),
        "vocab:id_verified",
    ),
    C(
        "permanent_address",
        (
            "Địa chỉ thường trú",
            "Nơi thường trú",
            "Hộ khẩu thường trú",
            "Địa chỉ hộ khẩu",
            "Thường trú",
        ),
        "text",
        True,
    ),
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "units",
            ("don_vi", "đơn vị", "đơn vị quản lý"),
            (
                C("unit_code", ("Mã đơn vị",), "code"),
                C("unit_name", ("Tên đơn vị",), "text", True),
                C("unit_tier", ("Cấp đơn vị",), "vocab:unit_tier"),
                C("parent_code", ("Mã đơn vị cấp trên",), "code"),
            ),
            "Đơn vị quản lý",
            ("unit_code",),
        ),
        Table(
            "schools",
            ("truong", "trường", "danh sách trường", "co_so_giao_duc"),
            (
                C("school_code", ("Mã trường", "Mã cơ sở giáo dục", "Mã CSGD"), "code"),
                C("school_name", ("Tên trường", "Tên cơ sở giáo dục", "Tên CSGD"), "text", True),
                C(
                    "unit_code",
                    ("Mã đơn vị quản lý", "Mã đơn vị", "Mã đơn vị chủ quản"),
                    "code",
                    True,
                ),
                C("levels", ("Cấp học", "Bậc học"), "levels", True),
                C("ownership", ("Loại hình", "Loại hình trường"), "vocab:ownership"),
                C(
                    "software",
                    ("Phần mềm QLNT", "Phần mềm", "Phần mềm quản lý nhà trường"),
                    "text",
                    True,
                ),
                C(
                    "principal",
                    ("Hiệu trưởng", "Họ tên hiệu trưởng", "Họ và tên hiệu trưởng"),
                    "text",
                    True,
                ),
                C(
                    "national_standard",
                    ("Đạt chuẩn quốc gia", "Trường chuẩn quốc gia", "Chuẩn quốc gia"),
                    "vocab:national_standard",
                    True,
                ),
                C(
                    "accreditation",
                    ("Kiểm định chất lượng", "Kiểm định chất lượng giáo dục", "Cấp độ kiểm định"),
                    "vocab:accreditation",
                    True,
                ),
                C(
                    "internet",
                    ("Kết nối internet", "Internet", "Có kết nối internet"),
                    "vocab:internet",
                    True,
                ),
                C("previous_codes", ("Mã trường cũ", "Mã trường trước sáp nhập"), "codes"),
                C(
                    "status",
                    ("Trạng thái", "Tình trạng hoạt động"),
                    "vocab:school_status",
                    default="Hoạt động",
                ),
                # optional: where `soat notify` sends the school's digest (one address or
                # several separated by ',' or ';'; checked when a digest is composed)
                C(
                    "email",
                    ("Email", "E-mail", "Thư điện tử", "Địa chỉ thư điện tử", "Địa chỉ email"),
                ),
            ),
            "Trường",
            ("school_code",),
        ),
        Table(
            "classes",
            ("lop", "lớp học"),
            (
                C("class_code", ("Mã lớp", "Mã lớp học"), "code"),
                C("school_code", ("Mã trường",), "code"),
                C("school_year", ("Năm học",), "school_year"),
                C("class_name", ("Tên lớp", "Tên lớp học"), "text", True),
                C("grade", ("Khối", "Khối lớp", "Khối học"), "grade", True),
                C("homeroom_code", ("Mã GVCN", "Mã giáo viên chủ nhiệm"), "code", True),
                C(
                    "language_programme",
                    ("Chương trình NN1", "Chương trình ngoại ngữ 1", "Chương trình ngoại ngữ"),
                    "text",
                    True,
                ),
                C(
                    "language_periods",
                    (
                        "Số tiết NN/tuần",
                        "Số tiết NN1/tuần",
                        "Số tiết ngoại ngữ/tuần",
                        "Số tiết ngoại ngữ 1/tuần",
                    ),
                    "int",
                    True,
                ),
                C("declared_size", ("Sĩ số", "Sĩ số lớp"), "int", True),
            ),
            "Lớp học",
            ("school_code", "class_code"),
        ),
        Table(
            "students",
            ("hoc_sinh", "học sinh"),
            (
                C("student_code", ("Mã học sinh", "Mã HS", "Mã số học sinh"), "code"),
                C("school_code", ("Mã trường",), "code"),
                C("class_code", ("Mã lớp", "Mã lớp học"), "code", True),
                C("school_year", ("Năm học",), "school_year"),
                *_PERSON,
                C(
                    "status",
                    ("Trạng thái", "Trạng thái học sinh", "Tình trạng học tập"),
                    "vocab:student_status",
                    default="Đang học",
                ),
                C("updated_at", ("Ngày cập nhật", "Thời gian cập nhật"), "timestamp"),
            ),
            "Học sinh",
            ("student_code",),
        ),
        Table(
            "staff",
            ("can_bo", "cán bộ", "cbgv", "giáo viên"),
            (
                C(
                    "staff_code",
                    ("Mã cán bộ", "Mã CB", "Mã CBGV", "Mã giáo viên", "Mã cán bộ, giáo viên"),
                    "code",
                ),
                C("school_code", ("Mã trường",), "code"),
                *_PERSON,
                C("position", ("Vị trí việc làm", "Chức vụ"), "vocab:position", True),
                C(
                    "contract",
                    ("Hình thức hợp đồng", "Loại hợp đồng", "Hình thức tuyển dụng"),
                    "vocab:contract",
                    True,
                ),
                C(
                    "qualification",
                    ("Trình độ đào tạo", "Trình độ chuyên môn", "Trình độ chuyên môn đào tạo"),
                    "vocab:qualification",
                    True,
                ),
                # required for Giáo viên only
                C("subject", ("Môn dạy", "Môn giảng dạy", "Môn học giảng dạy"), "text"),
                C(
                    "status",
                    ("Trạng thái", "Trạng thái làm việc", "Tình trạng làm việc"),
                    "vocab:staff_status",
                    default="Đang làm việc",
                ),
            ),
            "Cán bộ",
            ("staff_code",),
        ),
        Table(
            "rooms",
            ("phong_hoc", "phòng học"),
            (
                C("school_code", ("Mã trường",), "code"),
                C("school_year", ("Năm học",), "school_year"),
                C("room_type", ("Loại phòng",), "vocab:room_type"),
                C("count", ("Số lượng",), "int"),
            ),
            "Phòng học",
            ("school_code",),
        ),
        Table(
            "budget",
            ("ngan_sach", "ngân sách"),
            (
                C("school_code", ("Mã trường",), "code"),
                C("school_year", ("Năm học",), "school_year"),
                C("source", ("Nguồn",), "text"),
                C("amount", ("Số tiền",), "number"),
            ),
            "Ngân sách",
            ("school_code",),
        ),
        Table(
            "reports",
            ("bao_cao", "báo cáo"),
            (
                C("school_code", ("Mã trường",), "code"),
                C("school_year", ("Năm học",), "school_year"),
                C("period", ("Kỳ báo cáo",), "period"),
                C("indicator", ("Chỉ tiêu",), "code"),
                C("value", ("Giá trị",), "number"),
            ),
            "Báo cáo",
            ("school_code",),
        ),
        Table(
            "source_counts",
            ("so_lieu_phan_mem", "số liệu phần mềm"),
            (
                C("school_code", ("Mã trường",), "code"),
                C("school_year", ("Năm học",), "school_year"),
                C("software", ("Phần mềm",), "text"),
                C("data_type", ("Loại dữ liệu",), "data_type"),
                C("record_count", ("Số bản ghi",), "int"),
            ),
            "Số liệu phần mềm",
            ("school_code",),
        ),
        Table(
            "submissions",
            ("lich_su_tiep_nhan", "lịch sử tiếp nhận", "lịch sử đẩy dữ liệu"),
            (
                C("school_code", ("Mã trường",), "code"),
                C("school_year", ("Năm học",), "school_year"),
                C("period", ("Kỳ báo cáo",), "period"),
                C("data_type", ("Loại dữ liệu",), "data_type"),
                C("pushed_at", ("Thời điểm",), "timestamp"),
                C("result", ("Kết quả",), "vocab:submission_result"),
                C("error", ("Lỗi",), "text"),
                C("target", ("Đích",), "target"),
            ),
            "Lịch sử tiếp nhận",
            ("school_code",),
        ),
        Table(
            "deadlines",
            ("lich_bao_cao", "lịch báo cáo", "hạn nộp"),
            (
                C("school_year", ("Năm học",), "school_year"),
                C("period", ("Kỳ báo cáo",), "period"),
                C("level", ("Cấp học",), "levels"),
                C("data_type", ("Loại dữ liệu",), "data_type"),
                C("target", ("Đích",), "target"),
                C("due_date", ("Hạn",), "date"),
                C("lock_date", ("Khóa sổ",), "date"),
                C("unit_code", ("Mã đơn vị",), "code"),
                C("school_code", ("Mã trường",), "code"),
                C("reference", ("Văn bản",), "text"),
            ),
            "Lịch báo cáo",
            (),
        ),
    )
}

REQUIRED_TABLES = ("schools",)

# Vocabulary name (the part after "vocab:") -> soat.vocab attribute with the canonical values.
VOCABS = {
    "gender": "GENDERS",
    "ethnicity": "ETHNICITIES",
    "id_verified": "ID_VERIFIED",
    "student_status": "STUDENT_STATUS",
    "staff_status": "STAFF_STATUS",
    "school_status": "SCHOOL_STATUS",
    "position": "POSITIONS",
    "contract": "CONTRACTS",
    "qualification": "QUALIFICATIONS",
    "ownership": "OWNERSHIP",
    "national_standard": "NATIONAL_STANDARD",
    "accreditation": "ACCREDITATION",
    "internet": "INTERNET",
    "unit_tier": "UNIT_TIERS",
    "room_type": "ROOM_TYPES",
    "submission_result": "SUBMISSION_RESULTS",
}

# Stored DuckDB type per kind; kinds with a `_raw` companion keep the source text it could not read.
STORED_TYPE = {
    "code": "VARCHAR",
    "text": "VARCHAR",
    "citizen_id": "VARCHAR",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "int": "BIGINT",
    "number": "DOUBLE",
    "school_year": "VARCHAR",
    "levels": "VARCHAR[]",
    "grade": "VARCHAR",
    "period": "VARCHAR",
    "data_type": "VARCHAR",
    "target": "VARCHAR",
    "codes": "VARCHAR[]",
}
RAW_KINDS = ("date", "timestamp", "int", "number", "levels")


def stored_type(kind: str) -> str:
    return "VARCHAR" if kind.startswith("vocab:") else STORED_TYPE[kind]


def table_label(name: str) -> str:
    """A table's Vietnamese name (its `label`: "Học sinh"), else the name as given."""
    table = TABLES.get(name)
    return table.label if table is not None and table.label else name


def field_labels() -> dict[str, str]:
    """Each canonical column's Vietnamese name (its first header: "Địa chỉ thường trú"), for
    findings' messages and wherever a field is shown."""
    out: dict[str, str] = {}
    for table in TABLES.values():
        for c in table.columns:
            if c.headers:
                out.setdefault(c.name, c.headers[0])
    return out


def table_for_name(name: str, *, pieces: bool = False) -> str | None:
    """Table whose name or alias matches a file/sheet name (case, diacritics, ' -_' ignored).

    With `pieces`, a name that is a table's name or alias followed by a suffix also names
    that table (one file per school: `hoc_sinh_truong1`, `hoc_sinh (2)`, `students-45000100`):
    the suffix must start after a space, '_', '-', '.', '(' or with a digit, so `lophoc` is
    not `lop` + `hoc`. The longest alias wins."""
    from soat.vocab import name_key

    key = name_key(name)
    for table in TABLES.values():
        if key in {name_key(n) for n in (table.name, *table.aliases)}:
            return table.name
    if not pieces:
        return None
    spaced = _spaced_key(name)
    best: tuple[int, str] | None = None
    for table in TABLES.values():
        for alias in (table.name, *table.aliases):
            a, k = _spaced_key(alias), name_key(alias)
            rest = spaced[len(a) :]
            after = rest[:1] in (" ", "(", ".") or rest[:1].isdigit()
            glued = key.startswith(k) and key[len(k) : len(k) + 1].isdigit()  # hocsinh2
            if a and ((spaced.startswith(a) and after) or glued):
                if best is None or len(a) > best[0]:
                    best = (len(a), table.name)
    return best[1] if best else None


def _spaced_key(name: str) -> str:
    """A name folded, without diacritics, every run of spaces, '-' and '_' one space."""
    import re

    from soat.vocab import fold, strip_diacritics

    return re.sub(r"[\s_\-]+", " ", strip_diacritics(fold(name))).strip()


def missing_column_text(table: str, column: str) -> str:
    """'thiếu cột Số định danh cá nhân (bảng Học sinh; tiêu đề chấp nhận: …)': why a check
    did not run, and what the load warning names: the column and every header accepted
    for it."""
    col = TABLES[table].column(column)
    accepted = ", ".join(col.headers + (col.name,))
    return (
        f"thiếu cột {col.headers[0] if col.headers else col.name} "
        f"(bảng {table_label(table)}; tiêu đề chấp nhận: {accepted})"
    )


# Columns a source may leave out altogether, meaning "empty on every row": a deadlines
# file without "Cấp học" sets deadlines for every level, without "Mã đơn vị"/"Mã trường"
# it has no extensions. Checks read them, but never need them (not in their `reads`).
OPTIONAL_COLUMNS = frozenset(
    {
        ("deadlines", "level"),
        ("deadlines", "data_type"),
        ("deadlines", "unit_code"),
        ("deadlines", "school_code"),
        ("deadlines", "lock_date"),
    }
)
