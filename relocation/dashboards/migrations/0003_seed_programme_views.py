"""The three programme views of the seed reports, with the indicators of the catalogue.

Keys of apps not installed yet (services, governance) are kept and appear once
those apps register them.  Administrators edit these views in the admin.
"""

from django.db import migrations

VIEWS = [
    {
        "key": "liuxin",
        "name": "六心社区",
        "description": "以建成“六心”社区为目标：聚心（党建引领）、稳心（就业增收）、"
        "舒心（公共服务）、安心（社区治理）、开心（文化建设）、齐心（集体经济）。",
        "order": 10,
        "themes": [
            (
                "聚心",
                "聚焦党建引领",
                [
                    "party_orgs_by_kind",
                    "party_members",
                    "party_members_developed",
                    "paired_cadres",
                    "pairing_rate",
                ],
            ),
            (
                "稳心",
                "聚焦就业增收",
                [
                    "employment_rate",
                    "employed",
                    "households_employed",
                    "one_per_household_rate",
                    "zero_employment_households",
                    "per_capita_net_income",
                    "per_capita_income_growth",
                ],
            ),
            (
                "舒心",
                "聚焦公共服务",
                [
                    "standard_coverage_rate",
                    "facilities_by_kind",
                    "funding_total",
                    "medical_insurance_rate",
                    "in_school_rate",
                ],
            ),
            (
                "安心",
                "聚焦社区治理",
                [
                    "grid_units",
                    "grid_workers",
                    "safety_trainings",
                    "fire_drills",
                    "petitions_overdue",
                    "open_alerts",
                ],
            ),
            (
                "开心",
                "聚焦文化建设",
                ["activities_by_kind", "activity_participants", "honours_by_kind"],
            ),
            ("齐心", "聚焦集体经济", ["workshop_employed", "income_share_property"]),
        ],
    },
    {
        "key": "wuge-tixi",
        "name": "五个体系",
        "description": "公共服务、培训和就业服务、文化服务、社区治理、基层党建“五个体系”建设。",
        "order": 20,
        "themes": [
            (
                "公共服务体系",
                "",
                [
                    "settlements",
                    "standard_coverage_rate",
                    "facilities_by_kind",
                    "medical_insurance_rate",
                    "pension_insurance_rate",
                    "dibao_urban",
                    "in_school_rate",
                    "funding_total",
                ],
            ),
            (
                "培训和就业服务体系",
                "",
                [
                    "employment_rate",
                    "employed",
                    "households_employed",
                    "employed_nearby",
                    "public_welfare_posts",
                    "self_employed",
                    "workshop_employed",
                    "referrals",
                    "training_attendances",
                ],
            ),
            (
                "文化服务体系",
                "",
                ["activities_by_kind", "activity_participants", "honours_by_kind"],
            ),
            (
                "社区治理体系",
                "",
                [
                    "grid_units",
                    "grid_workers",
                    "building_heads",
                    "petitions_received",
                    "petition_resolution_rate",
                    "safety_trainings",
                ],
            ),
            (
                "基层党建体系",
                "",
                [
                    "party_orgs_by_kind",
                    "party_members",
                    "paired_cadres",
                    "paired_households",
                    "pairing_rate",
                ],
            ),
        ],
    },
    {
        "key": "liuzhua",
        "name": "六抓",
        "description": "抓增收、抓服务、抓就业、抓融入、抓治理，推动易地搬迁后续扶持。",
        "order": 30,
        "themes": [
            (
                "抓增收",
                "工资性、生产经营性、转移性、财产性收入",
                [
                    "per_capita_net_income",
                    "per_capita_income_growth",
                    "income_share_wage",
                    "income_share_business",
                    "income_share_transfer",
                    "income_share_property",
                    "households_below_monitoring_line",
                ],
            ),
            (
                "抓服务",
                "教育、医疗、文化、管理服务",
                ["standard_coverage_rate", "facilities_by_kind", "teachers", "medical_staff"],
            ),
            (
                "抓就业",
                "产业配套、就业监测、劳务输出、创业扶持、就业援助",
                [
                    "employment_rate",
                    "one_per_household_rate",
                    "zero_employment_households",
                    "employed_nearby",
                    "employed_outside_province",
                    "public_welfare_posts",
                    "self_employed",
                ],
            ),
            (
                "抓融入",
                "新市民居住证、城乡低保、入住",
                [
                    "residence_integration_rate",
                    "dibao_urban",
                    "occupancy_rate",
                    "plan_moved_in_rate",
                ],
            ),
            (
                "抓治理",
                "党建引领、群防群治、纠纷调处、监测预警",
                [
                    "party_orgs_by_kind",
                    "building_heads",
                    "petitions_received",
                    "petition_resolution_rate",
                    "monitored_households_by_kind",
                    "open_alerts",
                ],
            ),
        ],
    },
]


def seed(apps, schema_editor):
    View = apps.get_model("dashboards", "ProgrammeView")
    Theme = apps.get_model("dashboards", "ProgrammeTheme")
    Item = apps.get_model("dashboards", "ProgrammeItem")
    for spec in VIEWS:
        if View.objects.filter(key=spec["key"]).exists():
            continue  # an administrator's edits are kept
        view = View.objects.create(
            key=spec["key"],
            name=spec["name"],
            description=spec["description"],
            order=spec["order"],
        )
        for theme_order, (name, description, keys) in enumerate(spec["themes"], start=1):
            theme = Theme.objects.create(
                view=view, name=name, description=description, order=theme_order * 10
            )
            Item.objects.bulk_create(
                Item(theme=theme, indicator=key, order=order * 10)
                for order, key in enumerate(keys, start=1)
            )


def unseed(apps, schema_editor):
    View = apps.get_model("dashboards", "ProgrammeView")
    View.objects.filter(key__in=[spec["key"] for spec in VIEWS]).delete()


class Migration(migrations.Migration):
    dependencies = [("dashboards", "0002_programme_views")]

    operations = [migrations.RunPython(seed, unseed)]
