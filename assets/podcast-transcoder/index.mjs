// Podcast auto-transcoding, run by EventBridge Scheduler: every audio file under `uploads/`
// without a rendition under `episodes/` is submitted to MediaConvert, which runs as the role
// castform made for it (the only role this function may pass).
import { S3Client, ListObjectsV2Command, HeadObjectCommand } from '@aws-sdk/client-s3';
import { MediaConvertClient, CreateJobCommand } from '@aws-sdk/client-mediaconvert';

const region = process.env.AWS_REGION;
const s3 = new S3Client({ region });
const mediaconvert = new MediaConvertClient({ region });
const bucket = process.env.MEDIA_BUCKET;

export function renditionKey(upload) {
  const name = upload.slice('uploads/'.length).replace(/\.[^./]+$/, '');
  return `episodes/${name}.m4a`;
}

export function job(upload) {
  return {
    Role: process.env.MEDIACONVERT_ROLE_ARN,
    Queue: process.env.MEDIACONVERT_QUEUE_ARN,
    UserMetadata: { upload },
    Settings: {
      Inputs: [{ FileInput: `s3://${bucket}/${upload}`, AudioSelectors: { 'Audio Selector 1': { DefaultSelection: 'DEFAULT' } } }],
      OutputGroups: [
        {
          Name: 'episode',
          OutputGroupSettings: {
            Type: 'FILE_GROUP_SETTINGS',
            FileGroupSettings: { Destination: `s3://${bucket}/${renditionKey(upload).replace(/\.m4a$/, '')}` },
          },
          Outputs: [
            {
              ContainerSettings: { Container: 'MP4' },
              Extension: 'm4a',
              AudioDescriptions: [
                { CodecSettings: { Codec: 'AAC', AacSettings: { Bitrate: 128000, CodingMode: 'CODING_MODE_2_0', SampleRate: 48000 } } },
              ],
            },
          ],
        },
      ],
    },
  };
}

async function exists(key) {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (e) {
    if (e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404) return false;
    throw e;
  }
}

export const handler = async () => {
  const submitted = [];
  let ContinuationToken;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'uploads/', ContinuationToken }));
    for (const o of page.Contents ?? []) {
      if (o.Key.endsWith('/') || (await exists(renditionKey(o.Key)))) continue;
      const out = await mediaconvert.send(new CreateJobCommand(job(o.Key)));
      submitted.push({ upload: o.Key, job: out.Job?.Id });
    }
    ContinuationToken = page.NextContinuationToken;
  } while (ContinuationToken);
  console.log(JSON.stringify({ msg: 'transcoding submitted', count: submitted.length, submitted }));
  return { submitted: submitted.length };
};
