"""nornir_anycast: Nornir tasks that deploy and verify BGP anycast services.

Several servers announce the same service address over BGP; the edge router spreads traffic
over them with equal-cost multipath ("load balancing without load balancers").
"""

from __future__ import annotations

__version__ = "0.1.0"
