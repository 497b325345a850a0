"""The subnet (DESIGN §7): protocol a2a/2, signed HTTP, chain access, the miner and the validator.

Modules, each one concept:
  protocol        the a2a/2 request/response models, their limits and codecs (wav, npz, bvh), the capped HTTP read
  auth            signing and verifying requests with `bittensor.http_auth` (btauth/1) over the headers; wallets
  chain           the `Chain` interface, `Neuron`/`Metagraph`, weight normalisation, which addresses may be advertised
  networks        `open_chain`: from a network name to its chain (sim or bittensor)
  local_chain     the file-backed sim chain for `--network sim`
  subtensor_chain the real chain over bittensor 11
  connections     what a connection may hold before it proves itself: fair shares per address, a keyless budget, deadlines
  miner           (a package) the miner's FastAPI service: body intake, admission by stake, generation, the app
  prompts         where a validator's prompts come from: a local library of songs or a challenge endpoint
  state           the validator's persisted moving averages, one process per state file
  validator       the validator's step: prompt, query, judge, average, set weights

Importing this package is light (standard library only); bittensor, FastAPI and numpy are
imported by the modules that need them, when they are used.
"""

from a2a_cli.chain.chain import LOCAL_NETWORK, SIM_NETWORK, Chain, Metagraph, Neuron, RateLimited, normalize_weights
from a2a_cli.chain.networks import open_chain

__all__ = ["LOCAL_NETWORK", "SIM_NETWORK", "Chain", "Metagraph", "Neuron", "RateLimited", "normalize_weights", "open_chain"]
