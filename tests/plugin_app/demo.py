"""One demo step, after the communities demo; records when it is removed."""

from communities.demo import demo_settlements
from relocation.demo import DemoStep, register

REMOVED = []


def build(context):
    yield f"  插件演示：{demo_settlements().count()} 个演示安置点"


def remove():
    REMOVED.append(demo_settlements().count())


register(DemoStep("plugin_app", build=build, remove=remove, order=30, after=("communities",)))
