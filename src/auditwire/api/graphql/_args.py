"""Arguments many fields share: Relay's paging arguments and the delivery log's filter."""

from __future__ import annotations

from typing import Annotated

import strawberry

from auditwire.domain.delivery_log import AttemptOutcome

First = Annotated[
    int | None, strawberry.argument(description="Returns the first _n_ elements from the list.")
]
Last = Annotated[
    int | None, strawberry.argument(description="Returns the last _n_ elements from the list.")
]
After = Annotated[
    str | None,
    strawberry.argument(description="Returns the elements in the list that come after the cursor."),
]
Before = Annotated[
    str | None,
    strawberry.argument(
        description="Returns the elements in the list that come before the cursor."
    ),
]
OutcomeFilter = Annotated[
    AttemptOutcome | None, strawberry.argument(description="Only attempts with this outcome.")
]
