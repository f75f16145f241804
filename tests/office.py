"""A test office: drives towns and rounds on a test's own task queue, with unique ids."""

import uuid

from sqlmodel import Session

from tests.factories import report, town
from towns.intake.service import register_town, submit_report
from towns.models.round import Approval, RoundKind
from towns.models.town import Town
from towns.models.workflows import RoundStart, RoundView, workflow_id
from towns.queries import RoundDetail, round_detail
from towns.workflows.round import RoundWorkflow
from towns.workflows.town import TownWorkflow


class Office:
    """Drives a test's towns and rounds on its own task queue, with unique ids."""

    def __init__(self, env, engine, queue):
        self.env, self.engine, self.queue = env, engine, queue
        self.tag = uuid.uuid4().hex[:6]

    def code(self, name: str) -> str:
        return f"{name}-{self.tag}"

    async def register(self, name: str, **over) -> str:
        code = self.code(name)
        await register_town(self.env.client, self.engine, town(code=code, **over), "office", self.queue)
        return code

    async def december(
        self,
        code: str,
        year: int,
        fai: float,
        industry: float | None = None,
        nongov: float | None = None,
        tax: float = 1.0,
        scenic: int = 3,
        innovation: int = 10,
        correction=False,
    ):
        return await submit_report(
            self.env.client,
            report(
                code=code,
                period=f"{year}-12",
                fai=fai,
                industry_fai=fai * 0.8 if industry is None else industry,
                nongov_fai=fai * 0.9 if nongov is None else nongov,
                tax=tax,
                scenic_level=scenic,
                high_tech_enterprises=innovation,
                high_end_talents=innovation,
                new_enterprises=innovation,
                correction=correction,
                submission_id=f"{code}-{year}-{uuid.uuid4().hex[:6]}",
            ),
        )

    async def start(self, kind: str, year: int, **kw):
        rid = f"round-{year}-{kind}-{self.tag}"
        handle = await self.env.client.start_workflow(
            RoundWorkflow.run,
            RoundStart(kind=RoundKind(kind), year=year, started_by="tester", **kw),
            id=rid,
            task_queue=self.queue,
        )
        view = await handle.execute_update(RoundWorkflow.proposals_ready, result_type=RoundView)
        assert view.state == "proposed"
        return handle, rid

    async def round(self, kind: str, year: int, overrides=(), **kw) -> RoundDetail:
        handle, rid = await self.start(kind, year, **kw)
        await handle.execute_update(
            RoundWorkflow.approve, Approval(by="王主任", overrides=list(overrides)), result_type=RoundView
        )
        detail = round_detail(self.engine, rid)
        assert detail is not None
        return detail

    def town(self, code: str) -> Town:
        with Session(self.engine) as s:
            return s.get(Town, code)

    async def query(self, code: str):
        return await self.env.client.get_workflow_handle(workflow_id(code)).query(TownWorkflow.state)
