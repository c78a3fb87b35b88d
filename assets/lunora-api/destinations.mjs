// Seed 002's on-demand destinations: each RTMP destination is its own single-pipeline MediaLive
// channel fed from the environment's MediaConnect flow through a MEDIACONNECT input, created when
// the destination is added and deleted with it.
//
// The stream key is a SecureString parameter under /<prefix>/stream-keys/<id> (seed 002, "stream
// key protection"): the table keeps only the parameter's name, and no response carries the key.
// MediaLive needs it as the RTMP destination's stream name, so the channel's own description holds
// it (https://docs.aws.amazon.com/medialive/latest/ug/rtmp-destinations.html: "Stream name. Also
// called application instance or app instance or stream key"); only the principals allowed
// medialive:DescribeChannel can read it there.
//
// MediaLive's rules (https://docs.aws.amazon.com/medialive/latest/ug/multiplex-create-delete-edit-summary.html):
// a channel is edited and deleted only when idle, so a running destination is stopped by its own
// request first; this API never stops a channel the caller did not ask to stop.
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import {
  CreateChannelCommand,
  CreateInputCommand,
  DeleteChannelCommand,
  DeleteInputCommand,
  DescribeChannelCommand,
  MediaLiveClient,
  StartChannelCommand,
  StopChannelCommand,
  UpdateChannelCommand,
} from '@aws-sdk/client-medialive';
import { DescribeFlowCommand, MediaConnectClient, StartFlowCommand } from '@aws-sdk/client-mediaconnect';
import { DeleteParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';

const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const medialive = new MediaLiveClient({});
const mediaconnect = new MediaConnectClient({});
const ssm = new SSMClient({});

// what each platform's ingest is when the request names none
const PLATFORMS = {
  youtube: 'rtmp://a.rtmp.youtube.com/live2',
  twitch: 'rtmp://live.twitch.tv/app',
  linkedin: null,
  custom: null,
};

// seed 002's presets: width, height, frames per second, video bitrate
export const PRESETS = {
  '1080p30': { width: 1920, height: 1080, fps: 30, bitrate: 6_000_000 },
  '1080p60': { width: 1920, height: 1080, fps: 60, bitrate: 9_000_000 },
  '720p30': { width: 1280, height: 720, fps: 30, bitrate: 3_000_000 },
};

// MediaLive's channel states as seed 002's destination statuses
const STATUS = {
  CREATING: 'creating',
  CREATE_FAILED: 'error',
  IDLE: 'idle',
  STARTING: 'starting',
  RUNNING: 'running',
  RECOVERING: 'starting',
  STOPPING: 'stopping',
  DELETING: 'deleting',
  DELETED: 'deleting',
  UPDATING: 'idle',
  UPDATE_FAILED: 'error',
};

export class HttpError extends Error {
  constructor(statusCode, message) {
    super(message);
    this.statusCode = statusCode;
  }
}

const config = () => {
  const c = {
    table: process.env.DYNAMIC_DESTINATIONS_TABLE,
    flowArn: process.env.MEDIACONNECT_FLOW_ARN,
    roleArn: process.env.MEDIALIVE_ROLE_ARN,
    prefix: process.env.RESOURCE_PREFIX,
    environment: process.env.CASTFORM_ENVIRONMENT,
  };
  if (!c.table) throw new HttpError(500, 'DYNAMIC_DESTINATIONS_TABLE is not configured');
  return c;
};

const mediaConfigured = (c) => {
  if (!c.flowArn || !c.roleArn || !c.prefix) {
    throw new HttpError(503, 'this environment has no media pipeline (media.enabled is false)');
  }
};

// the tags the API's IAM policy requires on every channel and input it creates or touches
const tags = (c) => ({ 'castform:app': 'lunora', 'castform:environment': c.environment ?? 'unknown' });

const streamKeyParameter = (c, id) => `/${c.prefix}/stream-keys/${id}`;

// what a caller sees of a destination: never the key, nor where it is kept
export function view(item) {
  const { streamKey: _k, streamKeyParameter: _p, ...rest } = item;
  return rest;
}

function validated(body, partial) {
  const errors = [];
  const out = {};
  const str = (k, max) => {
    const v = body[k];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || !v.trim() || v.length > max) {
      errors.push(`${k} must be a non-empty string of at most ${max} characters`);
      return undefined;
    }
    return v.trim();
  };
  out.name = str('name', 128);
  out.platform = str('platform', 16);
  out.rtmpUrl = str('rtmpUrl', 1024);
  out.streamKey = str('streamKey', 512);
  out.preset = str('preset', 16);
  if (out.platform !== undefined && !(out.platform in PLATFORMS)) {
    errors.push(`platform must be one of ${Object.keys(PLATFORMS).join(', ')}`);
  }
  if (out.preset !== undefined && !(out.preset in PRESETS)) {
    errors.push(`preset must be one of ${Object.keys(PRESETS).join(', ')}`);
  }
  if (out.rtmpUrl !== undefined && !/^rtmps?:\/\/[^/\s]+\/\S+$/.test(out.rtmpUrl)) {
    errors.push('rtmpUrl must be rtmp:// or rtmps:// with a host and an application name');
  }
  if (!partial) {
    for (const k of ['name', 'platform', 'streamKey']) {
      if (out[k] === undefined && !errors.some((e) => e.startsWith(k))) errors.push(`${k} is required`);
    }
    out.preset ??= '720p30';
    if (out.platform in PLATFORMS) out.rtmpUrl ??= PLATFORMS[out.platform] ?? undefined;
    if (out.rtmpUrl === undefined && !errors.some((e) => e.startsWith('rtmpUrl'))) {
      errors.push(`rtmpUrl is required for platform ${out.platform}`);
    }
  }
  if (errors.length) throw new HttpError(400, errors.join('; '));
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined));
}

// the channel's encoding and its one RTMP output, from the preset
export function channelSettings(d, streamKey) {
  const p = PRESETS[d.preset];
  return {
    Destinations: [{ Id: 'rtmp', Settings: [{ Url: d.rtmpUrl, StreamName: streamKey }] }],
    EncoderSettings: {
      AudioDescriptions: [
        {
          Name: 'audio_aac',
          AudioSelectorName: 'default',
          CodecSettings: { AacSettings: { Bitrate: 128000, CodingMode: 'CODING_MODE_2_0', SampleRate: 48000 } },
        },
      ],
      VideoDescriptions: [
        {
          Name: 'video',
          Width: p.width,
          Height: p.height,
          CodecSettings: {
            H264Settings: {
              Bitrate: p.bitrate,
              RateControlMode: 'CBR',
              FramerateControl: 'SPECIFIED',
              FramerateNumerator: p.fps,
              FramerateDenominator: 1,
              GopSize: 2,
              GopSizeUnits: 'SECONDS',
              Profile: 'HIGH',
              ScanType: 'PROGRESSIVE',
            },
          },
        },
      ],
      OutputGroups: [
        {
          Name: 'rtmp',
          OutputGroupSettings: { RtmpGroupSettings: {} },
          Outputs: [
            {
              OutputName: d.platform,
              VideoDescriptionName: 'video',
              AudioDescriptionNames: ['audio_aac'],
              OutputSettings: { RtmpOutputSettings: { Destination: { DestinationRefId: 'rtmp' } } },
            },
          ],
        },
      ],
      TimecodeConfig: { Source: 'SYSTEMCLOCK' },
    },
  };
}

async function item(c, id) {
  const out = await documents.send(new GetCommand({ TableName: c.table, Key: { destinationId: id } }));
  if (!out.Item) throw new HttpError(404, `no destination ${id}`);
  return out.Item;
}

const save = (c, d) => documents.send(new PutCommand({ TableName: c.table, Item: d }));

// the channel's state now, or null when it is gone
async function channelState(channelId) {
  try {
    const out = await medialive.send(new DescribeChannelCommand({ ChannelId: channelId }));
    return out.State;
  } catch (e) {
    if (e.name === 'NotFoundException') return null;
    throw e;
  }
}

// the destination with the status its channel reports
async function refreshed(d) {
  if (!d.mediaLiveChannelId) return d;
  const state = await channelState(d.mediaLiveChannelId);
  return { ...d, channelState: state ?? 'DELETED', status: state ? STATUS[state] ?? 'error' : 'error' };
}

export async function list() {
  const c = config();
  const items = [];
  let ExclusiveStartKey;
  do {
    const page = await documents.send(new ScanCommand({ TableName: c.table, ExclusiveStartKey }));
    items.push(...(page.Items ?? []));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  const destinations = await Promise.all(items.map(refreshed));
  destinations.sort((a, b) => String(a.createdAt).localeCompare(String(b.createdAt)));
  return destinations.map(view);
}

export async function get(id) {
  return view(await refreshed(await item(config(), id)));
}

export async function create(body) {
  const c = config();
  mediaConfigured(c);
  const d = validated(body, false);
  const id = randomUUID();
  const now = new Date().toISOString();
  const parameter = streamKeyParameter(c, id);
  const name = `${c.prefix}-dest-${id.slice(0, 8)}`;
  const record = {
    destinationId: id,
    name: d.name,
    platform: d.platform,
    rtmpUrl: d.rtmpUrl,
    preset: d.preset,
    status: 'creating',
    streamKeyParameter: parameter,
    createdAt: now,
    lastModified: now,
  };
  const undo = [];
  try {
    await ssm.send(
      new PutParameterCommand({
        Name: parameter,
        Type: 'SecureString',
        Value: d.streamKey,
        // (no Tags: they would need ssm:AddTagsToResource too; the path scopes it to the environment)
        Description: `stream key of destination ${id}`,
      }),
    );
    undo.push(() => ssm.send(new DeleteParameterCommand({ Name: parameter })));
    await save(c, record);
    undo.push(() => documents.send(new DeleteCommand({ TableName: c.table, Key: { destinationId: id } })));
    const input = await medialive.send(
      new CreateInputCommand({
        Name: `${name}-input`,
        Type: 'MEDIACONNECT',
        MediaConnectFlows: [{ FlowArn: c.flowArn }],
        RoleArn: c.roleArn,
        Tags: tags(c),
      }),
    );
    const inputId = input.Input.Id;
    undo.push(() => medialive.send(new DeleteInputCommand({ InputId: inputId })));
    const channel = await medialive.send(
      new CreateChannelCommand({
        Name: name,
        ChannelClass: 'SINGLE_PIPELINE',
        RoleArn: c.roleArn,
        InputAttachments: [{ InputId: inputId, InputAttachmentName: 'flow' }],
        InputSpecification: { Codec: 'AVC', Resolution: 'HD', MaximumBitrate: 'MAX_20_MBPS' },
        Tags: tags(c),
        ...channelSettings(d, d.streamKey),
      }),
    );
    const done = {
      ...record,
      mediaLiveChannelId: channel.Channel.Id,
      mediaLiveInputId: inputId,
      status: STATUS[channel.Channel.State] ?? 'creating',
      lastModified: new Date().toISOString(),
    };
    await save(c, done);
    return view(done);
  } catch (e) {
    // nothing half-made stays behind to be billed: undo in reverse order
    for (const step of undo.reverse()) {
      await step().catch((u) => console.error('undo failed', u));
    }
    throw e;
  }
}

export async function start(id) {
  const c = config();
  mediaConfigured(c);
  const d = await item(c, id);
  const state = await channelState(d.mediaLiveChannelId);
  if (state === 'RUNNING' || state === 'STARTING') return { ...view(d), status: STATUS[state] };
  if (state !== 'IDLE') throw new HttpError(409, `destination ${id} is ${STATUS[state] ?? 'gone'}; only an idle destination can start`);
  // the shared ingest must be on for the channel to receive anything; starting it affects no other
  // destination (stopping it would, so stop never does)
  const flow = await mediaconnect.send(new DescribeFlowCommand({ FlowArn: c.flowArn }));
  let flowStarted = false;
  if (flow.Flow.Status === 'STANDBY') {
    await mediaconnect.send(new StartFlowCommand({ FlowArn: c.flowArn }));
    flowStarted = true;
  }
  const out = await medialive.send(new StartChannelCommand({ ChannelId: d.mediaLiveChannelId }));
  const next = { ...d, status: STATUS[out.State] ?? 'starting', lastModified: new Date().toISOString() };
  await save(c, next);
  return { ...view(next), flowStarted };
}

export async function stop(id) {
  const c = config();
  mediaConfigured(c);
  const d = await item(c, id);
  const state = await channelState(d.mediaLiveChannelId);
  if (state === 'IDLE' || state === 'STOPPING') return { ...view(d), status: STATUS[state] };
  if (state !== 'RUNNING' && state !== 'STARTING') {
    throw new HttpError(409, `destination ${id} is ${STATUS[state] ?? 'gone'}; only a running destination can stop`);
  }
  const out = await medialive.send(new StopChannelCommand({ ChannelId: d.mediaLiveChannelId }));
  const next = { ...d, status: STATUS[out.State] ?? 'stopping', lastModified: new Date().toISOString() };
  await save(c, next);
  return view(next);
}

export async function update(id, body) {
  const c = config();
  mediaConfigured(c);
  const d = await item(c, id);
  const change = validated(body, true);
  delete change.platform; // a destination keeps its platform: add a new one for another
  const state = await channelState(d.mediaLiveChannelId);
  if (state !== 'IDLE') {
    throw new HttpError(409, `destination ${id} is ${STATUS[state] ?? 'gone'}; stop it before changing its settings`);
  }
  const next = { ...d, ...change, lastModified: new Date().toISOString() };
  delete next.streamKey;
  let streamKey = change.streamKey;
  if (streamKey) {
    await ssm.send(new PutParameterCommand({ Name: d.streamKeyParameter, Type: 'SecureString', Value: streamKey, Overwrite: true }));
  } else {
    const current = await medialive.send(new DescribeChannelCommand({ ChannelId: d.mediaLiveChannelId }));
    streamKey = current.Destinations?.[0]?.Settings?.[0]?.StreamName;
  }
  await medialive.send(new UpdateChannelCommand({ ChannelId: d.mediaLiveChannelId, ...channelSettings(next, streamKey) }));
  await save(c, next);
  return view(next);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function remove(id) {
  const c = config();
  mediaConfigured(c);
  const d = await item(c, id);
  const state = d.mediaLiveChannelId ? await channelState(d.mediaLiveChannelId) : null;
  if (state && !['IDLE', 'CREATE_FAILED', 'UPDATE_FAILED', 'DELETING', 'DELETED'].includes(state)) {
    throw new HttpError(409, `destination ${id} is ${STATUS[state]}; stop it before deleting it`);
  }
  if (state && state !== 'DELETING' && state !== 'DELETED') {
    await save(c, { ...d, status: 'deleting', lastModified: new Date().toISOString() });
    await medialive.send(new DeleteChannelCommand({ ChannelId: d.mediaLiveChannelId }));
  }
  // the input can go once the channel no longer uses it (seed 002: deletion under 10 s)
  for (let i = 0; state && i < 40; i++) {
    const now = await channelState(d.mediaLiveChannelId);
    if (now === null || now === 'DELETED') break;
    await sleep(250);
  }
  if (d.mediaLiveInputId) {
    await medialive.send(new DeleteInputCommand({ InputId: d.mediaLiveInputId })).catch((e) => {
      if (e.name !== 'NotFoundException') throw e;
    });
  }
  await ssm.send(new DeleteParameterCommand({ Name: d.streamKeyParameter })).catch((e) => {
    if (e.name !== 'ParameterNotFound') throw e;
  });
  await documents.send(new DeleteCommand({ TableName: c.table, Key: { destinationId: id } }));
  return { deleted: id };
}

export async function flowStatus() {
  const flowArn = process.env.MEDIACONNECT_FLOW_ARN;
  if (!flowArn) return { flowArn: null, configured: false };
  const { Flow: f } = await mediaconnect.send(new DescribeFlowCommand({ FlowArn: flowArn }));
  return {
    flowArn,
    configured: true,
    name: f.Name,
    status: f.Status,
    source: { protocol: f.Source?.Transport?.Protocol ?? null, ingestIp: f.Source?.IngestIp ?? null, ingestPort: f.Source?.IngestPort ?? null },
    outputs: (f.Outputs ?? []).length,
  };
}
