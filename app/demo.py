"""The demo bank: an org tree, ~45 people in every role, improvement plans in every state,
every person's assessment results of the last four quarters (app/demo_results.py), and
promotion cases waiting at every step of every route (app/promotions/demo_cases.py).

Seeding is idempotent: when the demo head office exists, nothing is touched. Org units and
people go through the CSV importer's checks; plans are driven through the engine as the right
people, with the clock set back so that their history has plausible dates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlmodel import Session, func, select

from app import clock
from app.auth.passwords import hash_password
from app.demo_results import demo_people, seed_results
from app.engine import runtime
from app.engine.definitions import Vocabulary
from app.engine.models import WorkflowInstance
from app.engine.registry import Registry
from app.org.importer import (
    CsvTable,
    apply_org,
    apply_people,
    default_vocabulary,
)
from app.org.models import OrgUnit, Person, RoleAssignment
from app.promotions.demo_cases import TITLES, seed_promotions
from app.promotions.titles import default_title_book

HEAD_OFFICE_CODE = "HO"
DEMO_PASSWORD = "demo"
EMAIL_DOMAIN = "demo-bank.example.com"
WORKFLOW = "improvement_plan"
Progress = Callable[[int, int], None]

# code, name, name_en, kind, parent code
UNITS: list[tuple[str, str, str, str, str]] = [
    ("HO", "总行", "Head Office", "head_office", ""),
    ("HO-HR", "总行人力资源部", "Head Office HR Department", "department", "HO"),
    ("HO-PF", "总行私人金融部", "Head Office Private Finance Department", "department", "HO"),
    ("HO-CORP", "总行公司业务部", "Head Office Corporate Banking Department", "department", "HO"),
    # The provincial branch: the corporate scheme's steps (公司部, 行长办公会, 主管副行长) sit here.
    ("JN", "江南省分行", "Jiangnan Provincial Branch", "province", "HO"),
    ("JN-CORP", "江南省分行公司业务部", "Jiangnan Provincial Branch Corporate Banking",
     "department", "JN"),
    ("JN-PF", "江南省分行私人金融部", "Jiangnan Provincial Branch Private Finance",
     "department", "JN"),
    ("JC", "江城分行", "Jiangcheng Branch", "branch", "JN"),
    ("JC-YYB", "江城分行营业部", "Jiangcheng Branch Business Department", "sub_branch", "JC"),
    ("JC-HR", "江城分行人力资源部", "Jiangcheng Branch HR Department", "department", "JC"),
    ("JC-CORP", "江城分行公司业务部", "Jiangcheng Branch Corporate Banking", "department", "JC"),
    ("JC-PF", "江城分行私人金融部", "Jiangcheng Branch Private Finance", "department", "JC"),
    ("JC01", "江城东湖支行", "Jiangcheng Donghu Sub-branch", "sub_branch", "JC"),
    ("JC02", "江城西城支行", "Jiangcheng Xicheng Sub-branch", "sub_branch", "JC"),
    ("JC03", "江城高新支行", "Jiangcheng Gaoxin Sub-branch", "sub_branch", "JC"),
    ("HZ", "海州分行", "Haizhou Branch", "branch", "JN"),
    ("HZ-YYB", "海州分行营业部", "Haizhou Branch Business Department", "sub_branch", "HZ"),
    ("HZ-HR", "海州分行人力资源部", "Haizhou Branch HR Department", "department", "HZ"),
    ("HZ-CORP", "海州分行公司业务部", "Haizhou Branch Corporate Banking", "department", "HZ"),
    ("HZ-PF", "海州分行私人金融部", "Haizhou Branch Private Finance", "department", "HZ"),
    ("HZ01", "海州港湾支行", "Haizhou Gangwan Sub-branch", "sub_branch", "HZ"),
    ("HZ02", "海州新区支行", "Haizhou Xinqu Sub-branch", "sub_branch", "HZ"),
]

_LG, _PO, _CMG = "committee:leadership_group", "committee:president_office", \
    "committee:cm_management_group"

# employee_no, name, name_en, unit, post, grade, supervisor, roles
PEOPLE: list[tuple[str, str, str, str, str, str, str, str]] = [
    ("admin", "孙浩", "Sun Hao", "HO", "系统管理员", "", "pres00", ""),
    ("pres00", "周建国", "Zhou Jianguo", "HO", "行长", "", "", f"{_LG}@HO;{_PO}@HO;{_CMG}@HO;"
     "role:vice_president_in_charge@HO"),
    ("hr01", "林晓", "Lin Xiao", "HO-HR", "人力资源部总经理", "", "pres00", "role:hr@HO"),
    ("file01", "何静", "He Jing", "HO-PF", "私人金融部报备岗", "", "pres00",
     "role:head_office_filing@HO;role:private_finance_department@HO"),
    ("corp00", "高远", "Gao Yuan", "HO-CORP", "公司业务部总经理", "", "pres00",
     "role:corporate_department@HO"),
    # Jiangnan provincial branch
    ("pres10", "赵国华", "Zhao Guohua", "JN", "省分行行长", "", "pres00", f"{_LG}@JN;{_PO}@JN"),
    ("vp10", "钱明", "Qian Ming", "JN", "省分行副行长", "", "pres10",
     f"{_LG}@JN;{_PO}@JN;{_CMG}@JN;role:vice_president_in_charge@JN"),
    ("corp10", "钟磊", "Zhong Lei", "JN-CORP", "省分行公司业务部总经理", "", "vp10",
     f"role:corporate_department@JN;{_CMG}@JN"),
    ("pf10", "乔薇", "Qiao Wei", "JN-PF", "省分行私人金融部总经理", "", "vp10",
     "role:private_finance_department@JN"),
    # Jiangcheng branch
    ("pres01", "李强", "Li Qiang", "JC", "分行行长", "", "pres10", f"{_LG}@JC;{_PO}@JC"),
    ("vp01", "王立", "Wang Li", "JC", "分行副行长", "", "pres01",
     f"{_LG}@JC;{_PO}@JC;{_CMG}@JC;role:vice_president_in_charge@JC"),
    ("hr02", "刘洋", "Liu Yang", "JC-HR", "人力资源部经理", "", "vp01", "role:hr@JC"),
    ("corp01", "陈刚", "Chen Gang", "JC-CORP", "公司业务部总经理", "", "vp01",
     f"role:corporate_department@JC;role:department_reviewer@JC;{_CMG}@JC"),
    ("pf01", "杨丽", "Yang Li", "JC-PF", "私人金融部总经理", "", "vp01",
     f"role:private_finance_department@JC;role:department_reviewer@JC;{_LG}@JC"),
    ("sup01", "王芳", "Wang Fang", "JC01", "支行长", "", "pres01", ""),
    ("sup02", "张军", "Zhang Jun", "JC02", "支行长", "", "pres01", ""),
    ("sup03", "吴磊", "Wu Lei", "JC03", "支行长", "", "pres01", ""),
    ("sup04", "郑华", "Zheng Hua", "JC-YYB", "营业部主任", "", "pres01", ""),
    ("acc01", "黄敏", "Huang Min", "JC-YYB", "主管会计", "", "sup04",
     "role:chief_accountant@JC-YYB"),
    ("cm01", "张伟", "Zhang Wei", "JC01", "客户经理", "三级", "sup01", ""),
    ("cm02", "李娜", "Li Na", "JC01", "客户经理", "二级", "sup01", ""),
    ("cm03", "赵磊", "Zhao Lei", "JC02", "客户经理", "四级", "sup02", ""),
    ("cm04", "孙丽", "Sun Li", "JC02", "高级客户经理", "一级", "sup02", ""),
    ("cm05", "周杰", "Zhou Jie", "JC03", "客户经理", "见习", "sup03", ""),
    ("cm06", "徐静", "Xu Jing", "JC-YYB", "客户经理", "三级", "sup04", ""),
    ("tel01", "陈静", "Chen Jing", "JC01", "柜员", "", "sup01", ""),
    ("tel02", "马超", "Ma Chao", "JC02", "柜员", "", "sup02", ""),
    ("tel03", "胡雪", "Hu Xue", "JC-YYB", "柜员", "", "sup04", ""),
    ("tel04", "郭婷", "Guo Ting", "JC03", "柜员", "", "sup03", ""),
    # Haizhou branch
    ("pres02", "黄海", "Huang Hai", "HZ", "分行行长", "", "pres10", f"{_LG}@HZ;{_PO}@HZ"),
    ("vp02", "林峰", "Lin Feng", "HZ", "分行副行长", "", "pres02",
     f"{_LG}@HZ;{_PO}@HZ;{_CMG}@HZ;role:vice_president_in_charge@HZ"),
    ("hr03", "唐玲", "Tang Ling", "HZ-HR", "人力资源部经理", "", "vp02", "role:hr@HZ"),
    ("corp02", "罗斌", "Luo Bin", "HZ-CORP", "公司业务部总经理", "", "vp02",
     f"role:corporate_department@HZ;role:department_reviewer@HZ;{_CMG}@HZ"),
    ("pf02", "梁红", "Liang Hong", "HZ-PF", "私人金融部总经理", "", "vp02",
     f"role:private_finance_department@HZ;role:department_reviewer@HZ;{_LG}@HZ"),
    ("sup05", "宋涛", "Song Tao", "HZ01", "支行长", "", "pres02", ""),
    ("sup06", "韩梅", "Han Mei", "HZ02", "支行长", "", "pres02", ""),
    ("sup07", "冯伟", "Feng Wei", "HZ-YYB", "营业部主任", "", "pres02", ""),
    ("acc02", "曹颖", "Cao Ying", "HZ-YYB", "主管会计", "", "sup07",
     "role:chief_accountant@HZ-YYB"),
    ("cm07", "邓超", "Deng Chao", "HZ01", "客户经理", "三级", "sup05", ""),
    ("cm08", "许晴", "Xu Qing", "HZ01", "客户经理", "二级", "sup05", ""),
    ("cm09", "彭亮", "Peng Liang", "HZ02", "客户经理", "三级", "sup06", ""),
    ("cm10", "曾敏", "Zeng Min", "HZ02", "客户经理", "四级", "sup06", ""),
    ("cm11", "谢宇", "Xie Yu", "HZ-YYB", "客户经理", "见习", "sup07", ""),
    ("tel05", "韦佳", "Wei Jia", "HZ01", "柜员", "", "sup05", ""),
    ("tel06", "蒋丽", "Jiang Li", "HZ02", "柜员", "", "sup06", ""),
    ("tel07", "沈洁", "Shen Jie", "HZ-YYB", "柜员", "", "sup07", ""),
]
ENGLISH_READERS = {"admin", "hr02", "cm02"}

# The happy path of the improvement-plan workflow, step by step: (trigger, who, payload).
PATH: list[tuple[str, str, dict[str, Any]]] = [
    ("record_gap", "subject", {}),
    ("analyse_causes", "subject", {}),
    ("choose_methods", "supervisor", {}),
    ("draft_plan", "subject", {}),
    ("propose", "subject", {"comment": "计划已与主管讨论，提交双方签字。"}),
    ("sign", "subject", {}),
    ("sign", "supervisor", {}),
    ("begin", "subject", {}),
    ("submit_review", "subject", {"comment": "计划各步骤已执行，提交期末评估。"}),
    ("review", "supervisor", {}),
    ("decide", "hr", {"hr_decision": "rotation", "decision_applies_to": "employee",
                      "reason": "连续三个改进周期未见明显进步，调整至其他岗位轮岗。"}),
]
STEPS_TO = {
    "draft": 0, "gap_identified": 1, "causes_analysed": 2, "methods_chosen": 3,
    "plan_drafted": 4, "plan_proposed": 5, "plan_proposed_signed_once": 6, "plan_agreed": 7,
    "in_progress": 8, "under_review": 9, "closed": 10, "next_cycle": 10, "hr_decision": 10,
    "closed_by_hr": 11, "cancelled": 4,
}
OUTCOME_FOR = {"closed": "met", "next_cycle": "below_target", "hr_decision": "no_progress",
               "closed_by_hr": "no_progress"}
REVIEW_COMMENT = {
    "met": "目标已达成，同意关闭本改进计划。",
    "below_target": "有进步但未达到目标，转入下一改进周期。",
    "no_progress": "连续多个周期没有明显进步，提交人力资源部决定。",
}
PLAN_DAYS = 21  # calendar days a plan is carried out: three weeks, i.e. 15 working days
PAUSE_AFTER = {"begin": 16}  # working days from starting to submitting for review


@dataclass(frozen=True)
class Topic:
    """What a plan is about: the gap, its causes, the methods, goal, steps and the indicator."""

    requirement: str
    actual: str
    source: str
    metric: str
    unit: str
    baseline: float
    target: float
    causes: list[tuple[str, str, str, str]]  # side, nature, catalogue key, text
    methods: list[tuple[str, str, bool]]  # description, origin, chosen
    goal: str
    resources: str
    steps: list[tuple[str, str]]  # description, expected result
    indicator: tuple[str, str, str, float, float]  # name, unit, balance kind, baseline, plan
    cadence: str = "weekly"


TOPICS: dict[str, Topic] = {
    "reports_late": Topic(
        "每月6日前报送客户经营月报表", "最早8日才报送，平均迟报2天以上", "requirement_comparison",
        "月报表报送日", "日", 8, 6,
        [("employee", "subjective", "does_not_know_priority", "月初营销任务与报表时间冲突"),
         ("environment", "objective", "data_not_on_time", "核心系统数据次月3日才能导出"),
         ("supervisor", "subjective", "supervision_not_timely", "支行未在月初跟进报表进度")],
        [("重新梳理报表流程：固定部分提前准备，数据到达当天完成核对", "process_remapping", True),
         ("与营运部门约定每月3日前提供数据", "discussion", True),
         ("请同事代为填报", "brainstorming", False)],
        "连续三个月在每月6日前报送月报表", "支行长每月3日检查数据到位情况；营运部门按时提供数据",
        [("制作报表模板，固定部分提前填好", "模板经支行长确认"),
         ("与营运部门书面约定数据提供时间", "双方签字的约定"),
         ("每月5日下班前完成初稿并自查", "当月报表按时报送")],
        ("按时报送月数", "月", "cumulative", 0, 3)),
    "service_attitude": Topic(
        "主动迎候、微笑服务，服务投诉为零", "暗访发现服务态度生硬，本月被客户投诉1次",
        "unannounced_inspection", "神秘人暗访评分", "分", 72, 90,
        [("employee", "subjective", "weak_communication", "与客户沟通时语气生硬，缺乏耐心"),
         ("supervisor", "subjective", "mistakes_not_pointed_out", "日常未及时指出服务问题")],
        [("参加网点服务礼仪培训并每周演练", "discussion", True),
         ("大堂经理每日晨会点评服务表现", "brainstorming", True)],
        "服务投诉为零，神秘人暗访评分达到90分以上", "网点安排培训名额；大堂经理每日点评",
        [("参加服务礼仪培训", "取得培训结业证明"), ("每周一次服务情景演练", "演练记录"),
         ("接受神秘人暗访", "暗访评分不低于90分")],
        ("神秘人暗访评分", "分", "point", 72, 90)),
    "customer_ratings": Topic(
        "客户满意度评价不低于95%", "本季度3次被客户评价服务态度差", "customer_evaluation",
        "客户满意度", "%", 86, 95,
        [("employee", "subjective", "unwilling", "对服务评价不重视")],
        [("每日营业前复盘前一天的客户评价", "discussion", True)],
        "客户满意度评价达到95%", "支行长每周抽查客户评价",
        [("逐条分析差评原因", "差评分析表"), ("服务用语训练", "训练记录")],
        ("客户满意度", "%", "point", 86, 95)),
    "lobby_wait": Topic(
        "高峰时段客户平均等候不超过15分钟", "高峰时段平均等候32分钟", "unannounced_inspection",
        "高峰平均等候时间", "分钟", 32, 15,
        [("employee", "subjective", "does_not_know_how_well", "大堂分流引导不主动"),
         ("environment", "objective", "", "高峰时段只开两个窗口")],
        [("高峰时段增开弹性窗口", "process_remapping", True),
         ("大堂经理引导客户使用自助设备", "discussion", True)],
        "高峰时段平均等候不超过15分钟", "营业部安排弹性窗口人员",
        [("统计一周高峰客流", "客流统计表"), ("试行弹性窗口", "等候时间下降"),
         ("固化分流流程", "分流流程文件")],
        ("高峰等候达标天数", "天", "cumulative", 0, 10)),
    "effective_clients": Topic(
        "年内新增对公有效客户12户", "截至6月末仅新增3户，落后序时进度", "periodic_assessment",
        "新增对公有效客户", "户", 3, 12,
        [("employee", "subjective", "does_not_know_how_well", "客户拜访缺乏计划，跟进不及时"),
         ("environment", "objective", "", "辖区内新开企业较少")],
        [("按园区梳理目标客户名单，每周拜访5户", "brainstorming", True),
         ("与公司业务部联合开展园区营销活动", "discussion", True)],
        "三个月内新增对公有效客户不少于6户", "公司业务部提供园区企业名单和产品支持",
        [("梳理园区目标客户名单", "名单不少于40户"), ("完成首轮拜访", "拜访记录20户"),
         ("跟进意向客户开户", "新增有效客户6户")],
        ("新增对公有效客户", "户", "cumulative", 0, 6)),
    "skills_test": Topic(
        "点钞与传票录入技能测试达到二级", "测试成绩为四级", "skills_test",
        "技能测试等级达标项目", "项", 0, 2,
        [("employee", "subjective", "ability_below_requirement", "日常练习时间不足")],
        [("每天下班后练习点钞30分钟", "discussion", True),
         ("请业务能手一对一指导传票录入", "discussion", True)],
        "点钞与传票录入均达到二级", "营业部提供练功券和练习系统",
        [("每日练习并记录成绩", "练习记录"), ("参加支行模拟测试", "模拟成绩达到三级"),
         ("参加分行技能测试", "两项达到二级")],
        ("技能测试等级达标项目", "项", "point", 0, 2)),
    "deposits": Topic(
        "储蓄存款日均余额达到3000万元", "日均余额2100万元，完成计划70%", "periodic_assessment",
        "储蓄存款日均余额", "万元", 2100, 3000,
        [("employee", "subjective", "does_not_know_priority", "维护存量客户精力不足"),
         ("supervisor", "subjective", "does_not_know_how_to_help", "未提供代发工资客户资源")],
        [("对到期理财客户逐户回访，引导资金留存", "discussion", True),
         ("承接两家代发工资单位", "brainstorming", True)],
        "储蓄存款日均余额达到2600万元", "支行长协调代发工资单位资源",
        [("整理到期理财客户名单", "名单与联系计划"), ("完成回访", "回访记录"),
         ("落实代发工资", "签约两家单位")],
        ("储蓄存款日均余额", "万元", "daily_avg", 2100, 2600)),
    "deposits_time_target": Topic(
        "一般性存款完成序时任务", "完成序时任务的82%", "periodic_assessment",
        "序时任务完成率", "%", 82, 100,
        [("employee", "subjective", "other_things_to_do", "贷款业务占用大量时间"),
         ("environment", "objective", "cycle_too_short", "考核周期内大额存款集中到期")],
        [("每周盘点存款进度，落后即调整拜访计划", "discussion", True),
         ("联系大额到期客户提前续存", "discussion", True)],
        "一般性存款完成序时任务", "支行长每周例会通报进度",
        [("建立存款进度周报", "周报"), ("联系大额到期客户", "续存意向"),
         ("完成序时任务", "完成率100%")],
        ("一般性存款余额", "万元", "point", 4600, 5600)),
    "errors_incidents": Topic(
        "差错、结算事故为零，主管会计每日检查", "本季度发生差错3笔、结算事故1起",
        "self_inspection", "差错笔数", "笔", 3, 0,
        [("employee", "subjective", "does_not_know_how", "不熟悉新上线的结算流程"),
         ("supervisor", "subjective", "problem_not_spotted", "复核未发现录入错误")],
        [("主管会计每日营业终了检查", "discussion", True),
         ("重新学习结算操作规程并考试", "discussion", True)],
        "连续一个季度差错和结算事故为零", "主管会计每日检查并签字",
        [("学习结算操作规程", "考试合格"), ("每日双人复核", "复核登记簿"),
         ("季度差错统计", "差错为零")],
        ("差错与结算事故", "笔", "cumulative", 4, 0)),
    "internal_control": Topic(
        "保持内控综合评价一类行", "季度内控检查扣分8分", "open_inspection",
        "内控检查扣分", "分", 8, 0,
        [("employee", "subjective", "thinks_no_difference", "认为个别操作不规范影响不大")],
        [("对照检查问题逐项整改", "discussion", True)],
        "下季度内控检查不扣分", "营业部组织内控制度学习",
        [("整改检查发现的问题", "整改报告"), ("参加内控制度学习", "学习记录")],
        ("内控检查扣分项整改", "项", "cumulative", 0, 4)),
}


@dataclass(frozen=True)
class Scenario:
    """One improvement plan of the demo: whose, about what, how far it got, and when."""

    subject: str
    title: str
    topic: str
    reach: str  # a key of STEPS_TO
    last_activity_days_ago: int  # working days before today
    cycle: int = 1
    opened_by_supervisor: bool = False


SCENARIOS: list[Scenario] = [
    Scenario("cm07", "多次被客户评价服务态度差", "customer_ratings", "draft", 1,
             opened_by_supervisor=True),
    Scenario("tel03", "大堂客户等候时间过长", "lobby_wait", "gap_identified", 2),
    Scenario("cm10", "对公有效客户指标未完成", "effective_clients", "causes_analysed", 3),
    Scenario("tel02", "岗位内控检查发现操作不规范", "internal_control", "plan_drafted", 2),
    Scenario("tel01", "服务态度生硬，缺乏主动服务意识", "service_attitude",
             "plan_proposed_signed_once", 1),
    Scenario("cm05", "技能测试未达到目标等级", "skills_test", "plan_agreed", 2),
    Scenario("cm01", "月度报表迟报", "reports_late", "in_progress", 10),
    Scenario("cm09", "储蓄存款余额低于计划", "deposits", "in_progress", 12),
    Scenario("cm03", "有效客户指标未完成", "effective_clients", "under_review", 1),
    Scenario("tel07", "差错及结算事故", "errors_incidents", "closed", 5),
    Scenario("cm04", "存款未完成序时任务", "deposits_time_target", "next_cycle", 30),
    Scenario("cm04", "存款未完成序时任务", "deposits_time_target", "methods_chosen", 2, cycle=2),
    Scenario("tel06", "服务态度生硬", "service_attitude", "next_cycle", 75),
    Scenario("tel06", "服务态度生硬", "service_attitude", "next_cycle", 40, cycle=2),
    Scenario("tel06", "服务态度生硬", "service_attitude", "hr_decision", 3, cycle=3),
    Scenario("cm08", "月度报表迟报", "reports_late", "cancelled", 6),
    Scenario("cm06", "客户满意度未达标", "customer_ratings", "plan_proposed", 1),
    Scenario("tel05", "差错及结算事故", "errors_incidents", "next_cycle", 95),
    Scenario("tel05", "差错及结算事故", "errors_incidents", "next_cycle", 60, cycle=2),
    Scenario("tel05", "差错及结算事故", "errors_incidents", "closed_by_hr", 8, cycle=3),
]


@dataclass
class DemoReport:
    """What seeding did."""

    created: bool
    head_office: str
    units: int = 0
    people: int = 0
    plans: int = 0
    promotions: int = 0


def _org_records() -> list[dict[str, str]]:
    keys = ("code", "name", "name_en", "kind", "parent_code")
    return [dict(zip(keys, row, strict=True)) for row in UNITS]


def _known_roles(roles: str, vocabulary: Vocabulary) -> str:
    """The role entries this installation's organisation.yaml knows (a bank may have fewer)."""
    def known(entry: str) -> bool:
        kind, _, rest = entry.partition(":")
        names = vocabulary.roles if kind == "role" else vocabulary.committees
        return rest.split("@")[0] in names

    return ";".join(entry for entry in roles.split(";") if entry and known(entry))


def _people_records(vocabulary: Vocabulary) -> list[dict[str, str]]:
    return [
        {"employee_no": number, "name": name, "name_en": name_en,
         "email": f"{number}@{EMAIL_DOMAIN}",
         "locale": "en" if number in ENGLISH_READERS else "zh_CN",
         "org_unit_code": unit, "post": post, "grade": grade, "supervisor_no": boss,
         "titles": TITLES.get(number, ""), "roles": _known_roles(roles, vocabulary)}
        for number, name, name_en, unit, post, grade, boss, roles in PEOPLE
    ]


# --- time ------------------------------------------------------------------------------------


def _shift_working_days(moment: datetime, days: int) -> datetime:
    """The moment `days` working days later (negative: earlier); weekends are skipped."""
    step = 1 if days >= 0 else -1
    current, left = moment, abs(days)
    while left:
        current += timedelta(days=step)
        if current.weekday() < 5:
            left -= 1
    return current


def _at(day: date, hour: int, minute: int) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=clock.zone())


def _timeline(scenario: Scenario, today: datetime) -> list[datetime]:
    """When the plan starts and each action happens, the last one some working days ago."""
    triggers = ["start"] + [t for t, _, _ in PATH[: STEPS_TO[scenario.reach]]]
    if scenario.reach == "cancelled":
        triggers.append("cancel")
    pauses = [PAUSE_AFTER.get(t, 1 + i % 2) for i, t in enumerate(triggers[:-1])]
    day = _shift_working_days(today, -(scenario.last_activity_days_ago + sum(pauses)))
    days = [day]
    for pause in pauses:
        days.append(_shift_working_days(days[-1], pause))
    return [_at(d.date(), 9 + (2 * i) % 7, (13 * i + 7) % 60) for i, d in enumerate(days)]


# --- seeding ---------------------------------------------------------------------------------


def seed_demo(session: Session, registry: Registry, progress: Progress | None = None) -> DemoReport:
    """Create the demo bank unless its head office exists; the clock is reset afterwards."""
    existing = session.exec(select(OrgUnit).where(OrgUnit.code == HEAD_OFFICE_CODE)).first()
    if existing is not None:
        return DemoReport(created=False, head_office=f"{existing.name}, code {existing.code}")
    total = len(SCENARIOS) + 3
    today = clock.local_now().replace(second=0, microsecond=0)
    driver = _driver(session, registry)
    try:
        clock.freeze(_shift_working_days(today, -130))  # the bank existed before its plans
        units = apply_org(session, CsvTable.from_records(_org_records()))
        if progress:
            progress(1, total)
        vocabulary = registry.vocabulary if registry.files else default_vocabulary()
        people = apply_people(session, CsvTable.from_records(_people_records(vocabulary)),
                              vocabulary=vocabulary, titles=default_title_book(registry))
        _finish_accounts(session)
        if progress:
            progress(2, total)
        registry.sync(session)
        for done, scenario in enumerate(SCENARIOS, 3):
            _play(session, driver, scenario, today)
            if progress:
                progress(done, total)
        if driver.records_results:
            seed_results(session, registry, demo_people(session, [row[0] for row in PEOPLE]),
                         today, {code: _person(session, number) for code, number in
                                 (("HO", "hr01"), ("JC", "hr02"), ("HZ", "hr03"))})
        _overdue_history(session, today)
        promotion_cases = seed_promotions(session, registry, today)
        if progress:
            progress(total, total)
    finally:
        clock.reset()
    session.flush()
    plans = session.exec(select(func.count()).select_from(WorkflowInstance)
                         .where(WorkflowInstance.workflow == WORKFLOW)).one()
    return DemoReport(created=True, head_office=f"总行, code {HEAD_OFFICE_CODE}",
                      units=units.created, people=people.created, plans=plans,
                      promotions=promotion_cases)


def _overdue_history(session: Session, today: datetime, days: int = 30) -> None:
    """The daily overdue snapshots of the last weeks, rebuilt from the tasks' own dates (as the
    snapshot job does for a missed day), so the dashboard's trend has a history to draw."""
    from app.reports.snapshots import snapshot_overdue

    for back in range(days, 0, -1):
        day = (today - timedelta(days=back)).date()
        if day.weekday() < 5:
            snapshot_overdue(session, day, now=today)


def _finish_accounts(session: Session) -> None:
    """Every demo account signs in with the demo password; one of them administers."""
    password_hash = hash_password(DEMO_PASSWORD)
    numbers = [row[0] for row in PEOPLE]
    for person in session.exec(select(Person).where(Person.employee_no.in_(numbers))):
        person.password_hash = password_hash
        person.is_admin = person.employee_no == "admin"
    session.flush()


def _person(session: Session, number: str) -> Person:
    return session.exec(select(Person).where(Person.employee_no == number)).one()


def _branch_hr(session: Session, subject: Person) -> Person:
    """The demo bank's HR of the subject's branch; in another bank (tests play demo plans on
    their own small bank) whoever holds the HR role nearest above the subject's unit."""
    unit = session.get(OrgUnit, subject.org_unit_id)
    assert unit is not None
    demo = session.exec(select(Person).where(
        Person.employee_no == ("hr03" if unit.code.startswith("HZ") else "hr02"))).first()
    if demo is not None:
        return demo
    while unit is not None:
        held = session.exec(select(Person).join(
            RoleAssignment, RoleAssignment.person_id == Person.id).where(
            RoleAssignment.kind == "role", RoleAssignment.name == "hr",
            RoleAssignment.org_unit_id == unit.id).order_by(Person.id)).first()
        if held is not None:
            return held
        unit = session.get(OrgUnit, unit.parent_id) if unit.parent_id else None
    raise LookupError(f"nobody holds the HR role above {subject.employee_no}")


def play_scenario(session: Session, registry: Registry, scenario: Scenario,
                  today: datetime, hr: Person | None = None) -> None:
    """Play one demo plan for any person (tests use it to put a plan in a given state; the
    generated bank plays its template plans with it, naming their HR); the clock is left at
    the plan's last action."""
    _play(session, _driver(session, registry), scenario, today, hr)


def _play(session: Session, driver: _EngineDriver, scenario: Scenario, today: datetime,
          hr: Person | None = None) -> None:
    """Open the plan and take it as far as the scenario says, each action at its own time."""
    subject = _person(session, scenario.subject)
    supervisor = session.get(Person, subject.supervisor_id) if subject.supervisor_id else None
    assert supervisor is not None, f"demo person {scenario.subject} needs a supervisor"
    path = PATH[: STEPS_TO[scenario.reach]]
    needs_hr = scenario.reach == "cancelled" or any(who == "hr" for _, who, _ in path)
    people = {"subject": subject, "supervisor": supervisor}
    # HR is looked up only when a step needs it: a test's bank may have no demo HR officers
    if hr is not None or needs_hr:
        people["hr"] = hr or _branch_hr(session, subject)
    moments = _timeline(scenario, today)
    topic = TOPICS[scenario.topic]
    plan_start = (moments[8].date() if len(moments) > 8
                  else (moments[-1] + timedelta(days=7)).date())
    period = (plan_start, plan_start + timedelta(days=PLAN_DAYS))
    clock.freeze(moments[0])
    case = driver.open(scenario, subject, supervisor if scenario.opened_by_supervisor else subject)
    case.outcome = OUTCOME_FOR.get(scenario.reach, "met")
    for index, (trigger, who, payload) in enumerate(path, 1):
        clock.freeze(moments[index])
        driver.prepare(case, trigger, topic, people, period)
        if trigger == "review":
            outcome = OUTCOME_FOR[scenario.reach]
            payload = {"outcome": outcome, "comment": REVIEW_COMMENT[outcome]}
        driver.act(case, trigger, people[who], payload)
        if trigger == "begin":
            until = moments[index + 1] if index + 1 < len(moments) else today
            driver.keep_checkpoints(case, people, until)
    if scenario.reach == "cancelled":
        clock.freeze(moments[-1])
        driver.act(case, "cancel", people["hr"],
                   {"reason": "员工已调离客户经理岗位，本计划不再执行。"})


def _driver(session: Session, registry: Registry) -> _EngineDriver:
    """The plan-domain driver when the plans package is installed, else the bare engine one."""
    try:
        import app.plans.service  # noqa: F401
    except ModuleNotFoundError as exc:
        if not "app.plans.service".startswith(exc.name or "\0"):
            raise
        return _EngineDriver(session, registry)
    return _PlanDriver(session, registry)


@dataclass
class _Case:
    """A demo plan being played: its workflow instance and, with the plans domain, its plan."""

    instance: WorkflowInstance
    plan_id: int | None = None
    outcome: str = "met"  # how its review ends, when it gets that far


class _EngineDriver:
    """Drives bare workflow instances (no plan content)."""

    records_results = False  # assessment results need the plans domain (a level 5 opens one)

    def __init__(self, session: Session, registry: Registry) -> None:
        self.session = session
        self.registry = registry

    def open(self, scenario: Scenario, subject: Person, initiator: Person) -> _Case:
        """Start the workflow for the scenario's subject."""
        instance = runtime.start(self.session, workflow=WORKFLOW, subject=subject,
                                 initiator=initiator, title=scenario.title,
                                 context={"cycle": scenario.cycle}, registry=self.registry)
        return _Case(instance)

    def prepare(self, case: _Case, trigger: str, topic: Topic, people: dict[str, Person],
                period: tuple[date, date]) -> None:
        """Write whatever the next action needs (nothing without the plans domain)."""

    def act(self, case: _Case, trigger: str, actor: Person, payload: dict[str, Any]) -> None:
        """Take one workflow action."""
        runtime.fire(self.session, case.instance, trigger, actor, payload, registry=self.registry)

    def keep_checkpoints(self, case: _Case, people: dict[str, Person], until: datetime) -> None:
        """Record and check the checkpoints falling due before `until` (plans domain only)."""


class _PlanDriver(_EngineDriver):
    """Drives improvement plans through the plan services, content first, then the action."""

    records_results = True

    def open(self, scenario: Scenario, subject: Person, initiator: Person) -> _Case:
        """Start a plan, or take over the next cycle the previous review opened."""
        from app.plans import service
        from app.plans.models import ImprovementPlan
        from app.plans.schemas import GapDraft

        if scenario.cycle > 1:
            plan = self.session.exec(select(ImprovementPlan).where(
                ImprovementPlan.employee_id == subject.id,
                ImprovementPlan.cycle == scenario.cycle)).first()
            if plan is not None:
                return _Case(service.instance_of(self.session, plan), plan.id)
        topic = TOPICS[scenario.topic]
        gap = GapDraft(requirement=topic.requirement, actual=topic.actual, metric=topic.metric,
                       unit=topic.unit, baseline=topic.baseline, target=topic.target,
                       source=topic.source)
        plan = service.start_plan(self.session, employee=subject, initiator=initiator,
                                  title=scenario.title, gaps=[gap], source=topic.source)
        return _Case(service.instance_of(self.session, plan), plan.id)

    def prepare(self, case: _Case, trigger: str, topic: Topic, people: dict[str, Person],
                period: tuple[date, date]) -> None:
        """Fill in the part of the plan the next action's guard asks for."""
        from app.plans import content, review, service
        from app.plans.schemas import (
            CauseDraft,
            GapDecision,
            MethodDraft,
            PlanDetails,
            ReviewDraft,
            StepDraft,
        )

        assert case.plan_id is not None
        employee, supervisor = people["subject"], people["supervisor"]
        plan_id, db = case.plan_id, self.session
        if trigger == "analyse_causes":
            for gap in content.gaps_of(db, plan_id):
                if gap.included is None:
                    service.decide_gap(db, plan_id=plan_id, actor=employee, gap_id=gap.id,
                                       decision=GapDecision(included=True))
                if not content.causes_of(db, [gap.id])[gap.id]:
                    for side, nature, key, text in topic.causes:
                        service.add_cause(db, plan_id=plan_id, actor=employee, gap_id=gap.id,
                                          cause=CauseDraft(side=side, nature=nature,
                                                           catalogue_key=key, text=text))
        elif trigger == "choose_methods" and not content.methods_of(db, plan_id):
            for description, origin, chosen in topic.methods:
                service.add_method(db, plan_id=plan_id, actor=supervisor,
                                   method=MethodDraft(description=description, origin=origin,
                                                      chosen=chosen))
        elif trigger == "draft_plan":
            start, end = period
            service.update_details(db, plan_id=plan_id, actor=employee, details=PlanDetails(
                goal=topic.goal, goal_metric=topic.metric, goal_unit=topic.unit,
                goal_target=topic.target, resources=topic.resources, period_start=start,
                period_end=end, cadence=topic.cadence))
            if not content.steps_of(db, plan_id):
                span = (end - start).days
                for i, (description, result) in enumerate(topic.steps, 1):
                    due = start + timedelta(days=round(span * i / len(topic.steps)))
                    service.add_step(db, plan_id=plan_id, actor=employee, step=StepDraft(
                        description=description, due_on=due, expected_result=result,
                        owner_id=employee.id))
        elif trigger == "submit_review":
            plan = service.get_plan(db, plan_id=plan_id, viewer=employee)
            name, unit, kind, baseline, plan_value = topic.indicator
            outcome = case.outcome
            share = {"met": 1.0, "below_target": 0.6}.get(outcome, 0.1)
            actual = round(baseline + (plan_value - baseline) * share, 1)
            problems = [] if outcome == "met" or not plan_value else [{
                "problem": f"{name}未完成计划", "cause": topic.causes[0][3],
                "category": topic.causes[0][0], "indicator": name}]
            steps = content.steps_of(db, plan_id)
            review.save(db, plan=plan, instance=case.instance, actor=employee, draft=ReviewDraft(
                period_label=f"{period[0]:%Y年%m月}改进周期", cut_off_on=period[1],
                post=employee.post,
                indicators=[{"indicator": name, "unit": unit, "balance_kind": kind,
                             "actual": actual, "plan_value": plan_value,
                             "time_proportional_target": plan_value}],
                measures=[{"measure": s.description,
                           "result": s.expected_result if outcome == "met" else "部分完成",
                           "step_id": s.id} for s in steps],
                problems=problems,
                targets=[{"indicator": name, "value": plan_value, "unit": unit,
                          "deadline": period[1] + timedelta(days=90)}],
                next_measures="保持已形成的工作方法，按月自查。"))

    def act(self, case: _Case, trigger: str, actor: Person, payload: dict[str, Any]) -> None:
        """Take the action through the plan service (signatures bind to the plan version)."""
        from app.plans import service

        assert case.plan_id is not None
        service.act(self.session, plan_id=case.plan_id, actor=actor, trigger=trigger,
                    payload=payload)

    def keep_checkpoints(self, case: _Case, people: dict[str, Person], until: datetime) -> None:
        """The employee records each checkpoint on its day; the supervisor checks that evening."""
        from app.plans import checkpoints, service
        from app.plans.schemas import CheckEntry, ProgressEntry

        assert case.plan_id is not None
        plan = service.get_plan(self.session, plan_id=case.plan_id, viewer=people["subject"])
        for n, checkpoint in enumerate(checkpoints.of_plan(self.session, plan.id)):
            recorded, checked = _at(checkpoint.due_on, 16, 30), _at(checkpoint.due_on, 17, 40)
            if checked >= until:
                break
            clock.freeze(recorded)
            checkpoints.record_progress(
                self.session, plan=plan, instance=case.instance, checkpoint_id=checkpoint.id,
                actor=people["subject"], entry=ProgressEntry(
                    progress="按计划推进，本阶段步骤已完成。" if n % 3 != 2
                    else "进度略慢，已与主管沟通调整安排。",
                    evidence_text="工作记录已整理归档。"))
            clock.freeze(checked)
            result = "on_track" if n % 3 != 2 else "at_risk"
            checkpoints.check(self.session, plan=plan, instance=case.instance,
                              checkpoint_id=checkpoint.id, actor=people["supervisor"],
                              entry=CheckEntry(result=result, comment="" if result == "on_track"
                                               else "下周加快进度，周五前补齐。"))
