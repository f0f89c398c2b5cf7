"""The fee's end and the legal basis the printed documents cite, as editable data (DESIGN §7).

社会抚养费 was levied under article 41 of the Population and Family Planning Law (2001, in force 2002-09-01;
article 41 unchanged by the 2015 amendment) and the State Council's 《社会抚养费征收管理办法》 (令第357号).
On 2021-07-20 the central decision on optimising the birth policy cancelled it, and the amendment of
2021-08-20 removed the article. So: no case, decision or payment after 2021-07-20 (refunds and closing
entries aside); cases still open then are terminated, unpaid amounts no longer collected (the county may
choose otherwise in the admin). Documents dated after the end cite the decision that cancelled the fee.
"""

from datetime import date

from django.db import migrations

END = {
    "ends_on": date(2021, 7, 20),
    "unsettled_outcome": "terminate",
    "source": (
        "《中共中央 国务院关于优化生育政策促进人口长期均衡发展的决定》（2021年7月20日）：取消社会抚养费，"
        "清理和废止相关处罚规定；《中华人民共和国人口与计划生育法》（2021年8月20日修正）删除了征收社会抚养费的规定"
    ),
}

BASES = [
    {
        "valid_from": date(2002, 9, 1),
        "valid_to": date(2021, 7, 20),
        "text": "《中华人民共和国人口与计划生育法》第四十一条、《社会抚养费征收管理办法》（国务院令第357号）",
        "note": "人口与计划生育法2001年12月29日通过、2002年9月1日施行，2015年修正保留第四十一条",
    },
    {
        "valid_from": date(2021, 7, 21),
        "valid_to": None,
        "text": (
            "《中共中央 国务院关于优化生育政策促进人口长期均衡发展的决定》（2021年7月20日）"
            "及《中华人民共和国人口与计划生育法》（2021年修正）"
        ),
        "note": "社会抚养费已取消：此后只出具终止征收、退款等结案文书",
    },
]


def load(apps, schema_editor):
    FeeEnd = apps.get_model("fees", "FeeEnd")
    LegalBasis = apps.get_model("fees", "LegalBasis")
    if not FeeEnd.objects.exists():
        FeeEnd.objects.create(**END)
    if not LegalBasis.objects.exists():
        for basis in BASES:
            LegalBasis.objects.create(**basis)


def unload(apps, schema_editor):
    apps.get_model("fees", "FeeEnd").objects.filter(ends_on=END["ends_on"]).delete()
    apps.get_model("fees", "LegalBasis").objects.filter(valid_from__in=[b["valid_from"] for b in BASES]).delete()


class Migration(migrations.Migration):
    dependencies = [("fees", "0003_fee_end_and_legal_basis")]
    operations = [migrations.RunPython(load, unload)]
