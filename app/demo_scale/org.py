"""The generated bank's tree and people as rows: head office, branches with an HR department,
sub-branches with a head and their staff; every account signs in with the demo password."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.demo_scale.sizes import Size
from app.engine.definitions import Vocabulary

EMAIL_DOMAIN = "demo-bank.example.com"
CITIES = ["江城", "海州", "云川", "临江", "北陵", "南湖", "东岳", "西山", "青州", "安平", "长宁",
          "永和", "金城", "宁远", "华阳", "清河", "丰乐", "德安", "新洲", "平阳", "嘉禾", "凤城",
          "龙泉", "泰和", "通远", "兴隆", "玉溪", "汉阳", "静海", "定远", "宝山", "开平", "广安",
          "胜利", "昌平", "和平"]
DISTRICTS = ["东湖", "西城", "高新", "港湾", "新区", "中山", "人民路", "解放路", "滨江", "开发区",
             "城南", "城北", "火车站", "大学城", "工业园", "花园", "长江路", "建设路", "文化路",
             "迎宾路"]
SURNAMES = [("王", "Wang"), ("李", "Li"), ("张", "Zhang"), ("刘", "Liu"), ("陈", "Chen"),
            ("杨", "Yang"), ("黄", "Huang"), ("赵", "Zhao"), ("吴", "Wu"), ("周", "Zhou"),
            ("徐", "Xu"), ("孙", "Sun"), ("马", "Ma"), ("朱", "Zhu"), ("胡", "Hu"), ("郭", "Guo"),
            ("何", "He"), ("林", "Lin"), ("罗", "Luo"), ("高", "Gao")]
GIVEN = [("伟", "Wei"), ("芳", "Fang"), ("娜", "Na"), ("敏", "Min"), ("静", "Jing"),
         ("丽", "Li"), ("强", "Qiang"), ("磊", "Lei"), ("军", "Jun"), ("洋", "Yang"),
         ("勇", "Yong"), ("艳", "Yan"), ("杰", "Jie"), ("娟", "Juan"), ("涛", "Tao"),
         ("明", "Ming"), ("超", "Chao"), ("秀英", "Xiuying"), ("霞", "Xia"), ("平", "Ping"),
         ("刚", "Gang"), ("桂英", "Guiying"), ("婷", "Ting"), ("浩", "Hao"), ("雪", "Xue")]
STAFF_POSTS = [("客户经理", "三级"), ("柜员", ""), ("客户经理", "二级"), ("柜员", ""),
               ("高级客户经理", "一级"), ("大堂经理", ""), ("客户经理", "四级"), ("柜员", "")]
LG, PO = "committee:leadership_group", "committee:president_office"


@dataclass
class Staff:
    """Who an employee answers to, for mapping a template's people onto theirs."""

    person_id: int
    unit_id: int
    branch_id: int
    supervisor_id: int
    hr_id: int


@dataclass
class BankRows:
    """The rows of the tree and its people, and every employee's place in it."""

    units: list[dict[str, Any]] = field(default_factory=list)
    people: list[dict[str, Any]] = field(default_factory=list)
    roles: list[dict[str, Any]] = field(default_factory=list)
    staff: list[Staff] = field(default_factory=list)  # employees who can have plans
    hr_of_branch: dict[int, int] = field(default_factory=dict)


class _Builder:
    """Hands out ids and writes rows in tree order."""

    def __init__(self, first_unit: int, first_person: int, first_role: int, *,
                 vocabulary: Vocabulary, password_hash: str, at: datetime) -> None:
        self.rows = BankRows()
        self.unit_id, self.person_id, self.role_id = first_unit, first_person, first_role
        self.vocabulary, self.password_hash, self.at = vocabulary, password_hash, at
        self.paths: dict[int, str] = {}
        self.codes: dict[str, int] = {}

    def unit(self, code: str, name: str, name_en: str, kind: str, parent: int | None) -> int:
        uid, self.unit_id = self.unit_id, self.unit_id + 1
        self.paths[uid] = f"{self.paths[parent] if parent else '/'}{uid}/"
        self.codes[code] = uid
        self.rows.units.append({"id": uid, "code": code, "name": name, "name_en": name_en,
                                "kind": kind, "parent_id": parent, "path": self.paths[uid],
                                "created_at": self.at})
        return uid

    def person(self, number: str, unit: int, post: str, supervisor: int | None, *,
               grade: str = "", roles: tuple[str, ...] = (), admin: bool = False) -> int:
        pid, self.person_id = self.person_id, self.person_id + 1
        surname, given = SURNAMES[pid % len(SURNAMES)], GIVEN[(pid // 7) % len(GIVEN)]
        self.rows.people.append({
            "id": pid, "employee_no": number, "name": surname[0] + given[0],
            "name_en": f"{given[1]} {surname[1]}", "email": f"{number}@{EMAIL_DOMAIN}",
            "locale": "zh_CN", "org_unit_id": unit, "post": post, "grade": grade,
            "supervisor_id": supervisor, "password_hash": self.password_hash,
            "is_admin": admin, "active": True, "created_at": self.at})
        for entry in roles:
            kind, _, rest = entry.partition(":")
            name, _, code = rest.partition("@")
            if name in (self.vocabulary.roles if kind == "role" else self.vocabulary.committees):
                self.rows.roles.append({"id": self.role_id, "person_id": pid, "kind": kind,
                                        "name": name, "org_unit_id": self.codes[code],
                                        "created_at": self.at})
                self.role_id += 1
        return pid


def build(size: Size, *, first_ids: dict[str, int], vocabulary: Vocabulary,
          password_hash: str, at: datetime) -> BankRows:
    """The whole tree: people spread evenly over the sub-branches after the fixed posts."""
    b = _Builder(first_ids["org_unit"], first_ids["person"], first_ids["role_assignment"],
                 vocabulary=vocabulary, password_hash=password_hash, at=at)
    ho = b.unit("HO", "总行", "Head Office", "head_office", None)
    ho_hr = b.unit("HO-HR", "总行人力资源部", "Head Office HR Department", "department", ho)
    president = b.person("pres00", ho, "行长", None,
                         roles=(f"{LG}@HO", f"{PO}@HO", "role:vice_president_in_charge@HO"))
    b.person("admin", ho, "系统管理员", president, admin=True)
    b.person("hr01", ho_hr, "人力资源部总经理", president, roles=("role:hr@HO",))
    fixed = 3 + size.branches * 5 + size.sub_branches
    per_sub, extra = divmod(max(size.people - fixed, 0), max(size.sub_branches, 1))
    sub_index = 0
    for n in range(1, size.branches + 1):
        city = CITIES[(n - 1) % len(CITIES)] + ("" if n <= len(CITIES) else str(n))
        code = f"B{n:02d}"
        branch = b.unit(code, f"{city}分行", f"{code} Branch", "branch", ho)
        hr_dept = b.unit(f"{code}-HR", f"{city}分行人力资源部", f"{code} Branch HR Department",
                         "department", branch)
        head = b.person(f"b{n:02d}pres", branch, "分行行长", president,
                        roles=(f"{LG}@{code}", f"{PO}@{code}"))
        vp = b.person(f"b{n:02d}vp", branch, "分行副行长", head,
                      roles=(f"{LG}@{code}", "role:vice_president_in_charge@" + code))
        hr = b.person(f"b{n:02d}hr1", hr_dept, "人力资源部经理", vp, roles=(f"role:hr@{code}",))
        for k in (2, 3):
            b.person(f"b{n:02d}hr{k}", hr_dept, "人力资源专员", hr, roles=(f"role:hr@{code}",))
        b.rows.hr_of_branch[branch] = hr
        subs = size.sub_branches // size.branches + (n <= size.sub_branches % size.branches)
        for s in range(1, subs + 1):
            district = DISTRICTS[(s - 1) % len(DISTRICTS)]
            sub_code = f"{code}S{s:03d}"
            unit = b.unit(sub_code, f"{city}{district}支行{'' if s <= 20 else s}",
                          f"{sub_code} Sub-branch", "sub_branch", branch)
            sub_head = b.person(f"s{n:02d}{s:03d}", unit, "支行长", head)
            for k in range(1, per_sub + (sub_index < extra) + 1):
                post, grade = STAFF_POSTS[k % len(STAFF_POSTS)]
                pid = b.person(f"e{n:02d}{s:03d}{k:02d}", unit, post, sub_head, grade=grade)
                b.rows.staff.append(Staff(pid, unit, branch, sub_head, hr))
            sub_index += 1
    return b.rows
