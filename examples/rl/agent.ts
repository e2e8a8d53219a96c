// An actor-critic for PPO and REINFORCE, from lepton's public API: a policy
// network (a Categorical over discrete actions, or a diagonal Gaussian with a
// learned, state-independent log standard deviation for box actions) and a
// separate value network, both MLPs with tanh hidden layers.
import { distributions, nn, tensor, type Tensor, type DeviceName } from 'lepton';

export interface AgentSpec {
  observationSize: number;
  /** Discrete actions: the number of choices. */
  numActions?: number;
  /** Box actions: the action vector's length. */
  actionSize?: number;
  hidden?: number[];
  /** The Gaussian policy's initial log standard deviation (default 0: σ = 1). */
  initLogStd?: number;
  seed?: number;
  device?: DeviceName;
}

/** An MLP body with tanh hidden layers and a linear head that starts at zero (a uniform / unit Gaussian policy, a zero value). */
class Head extends nn.Module {
  readonly body: nn.MLP;
  readonly out: nn.Linear;
  constructor(sizes: number[], outSize: number, seed: number, device?: DeviceName) {
    super();
    this.body = this.registerModule('body', new nn.MLP(sizes, { activation: 'tanh', outputActivation: 'tanh', seed, device }));
    this.out = this.registerModule('out', new nn.Linear(sizes[sizes.length - 1], outSize, { init: 'zeros', device }));
  }
  forward(x: Tensor): Tensor {
    return this.out.forward(this.body.forward(x));
  }
}

export class ActorCritic extends nn.Module {
  readonly actor: Head;
  readonly critic: Head;
  readonly logStd: Tensor | null;
  readonly discrete: boolean;

  constructor(spec: AgentSpec) {
    super();
    const hidden = spec.hidden ?? [64, 64];
    const seed = spec.seed ?? 0;
    this.discrete = spec.numActions !== undefined;
    const outSize = spec.numActions ?? spec.actionSize ?? 1;
    this.actor = this.registerModule('actor', new Head([spec.observationSize, ...hidden], outSize, seed, spec.device));
    this.critic = this.registerModule('critic', new Head([spec.observationSize, ...hidden], 1, seed + 1, spec.device));
    this.logStd = this.discrete ? null
      : this.registerParameter('logStd', tensor(new Float32Array(outSize).fill(spec.initLogStd ?? 0), [outSize], { requiresGrad: true, device: spec.device }));
  }

  /** The policy at a batch of observations [B, obs]. */
  dist(obs: Tensor): distributions.Categorical | distributions.Normal {
    const out = this.actor.forward(obs);
    return this.discrete ? new distributions.Categorical({ logits: out }) : new distributions.Normal(out, this.logStd!.exp());
  }

  /** log π(a | s) per row [B]: a Gaussian's independent dimensions add up. */
  logProb(dist: distributions.Categorical | distributions.Normal, actions: Tensor): Tensor {
    return dist instanceof distributions.Categorical ? dist.logProb(actions) : dist.logProb(actions).sum(-1);
  }

  /** The policy's entropy per row [B]. */
  entropy(dist: distributions.Categorical | distributions.Normal): Tensor {
    return dist instanceof distributions.Categorical ? dist.entropy() : dist.entropy().sum(-1);
  }

  /** V(s) per row [B]. */
  value(obs: Tensor): Tensor {
    return this.critic.forward(obs).reshape([-1]);
  }

  forward(obs: Tensor): Tensor {
    return this.actor.forward(obs);
  }
}
