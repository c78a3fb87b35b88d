//! Event plumbing between the stateful parts and the functions: an SQS dead-letter queue, a
//! DynamoDB stream consumer with every setting rule L10 asks for, and EventBridge Scheduler
//! schedules whose role may invoke exactly their targets (rule L09).

use super::ConstructError;
use super::function::Function;
use super::iam::{Role, Statement};
use crate::cfn::{lambda, scheduler, sqs};
use crate::template::{Accepted, Expr, Handle, Stack};

/// An encrypted SQS queue holding what failed, for 14 days, retained with the environment's data.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetterQueue {
    pub id: String,
    pub handle: Handle,
}

impl DeadLetterQueue {
    pub fn new(stack: &mut Stack, id: &str) -> Result<Self, ConstructError> {
        // what failed is data: kept with the stack's data where the environment retains it (L05)
        let handle = stack.template.add_with(
            id,
            &sqs::Queue {
                message_retention_period: Some(1_209_600.into()),
                sqs_managed_sse_enabled: Some(true.into()),
                ..Default::default()
            },
            crate::template::Attributes::stateful(stack.retain_data),
        )?;
        // checkov reads only KmsMasterKeyId; SqsManagedSseEnabled is SQS's own encryption at rest
        stack.template.accept(
            &handle.id,
            Accepted::Checkov("CKV_AWS_27"),
            "encrypted at rest by SQS-managed keys, SqsManagedSseEnabled: true (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-server-side-encryption.html); checkov looks only for a KMS key",
        )?;
        let q = Self { id: id.to_string(), handle };
        stack.output(&format!("{id}Arn"), q.arn(), &format!("ARN of queue {id}"))?;
        Ok(q)
    }

    pub fn arn(&self) -> Expr<String> {
        self.handle.get_att(sqs::Queue::ATTR_ARN)
    }
}

/// Where a stream consumer starts reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartingPosition {
    Latest,
    TrimHorizon,
}

/// Settings of a [`StreamConsumer`]; the defaults are seed 004's fix.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamConsumerProps {
    pub starting_position: StartingPosition,
    /// Default 10.
    pub batch_size: u32,
    /// Default 5 s.
    pub batching_window_s: u32,
    /// Default 3; a stream consumer always has a bound (rule L10).
    pub retries: u32,
    /// Split a failing batch in two to find the bad record; default on.
    pub bisect_on_error: bool,
}

impl Default for StreamConsumerProps {
    fn default() -> Self {
        Self {
            starting_position: StartingPosition::Latest,
            batch_size: 10,
            batching_window_s: 5,
            retries: 3,
            bisect_on_error: true,
        }
    }
}

/// A function reading a DynamoDB stream through an event source mapping, records that still
/// fail after the retries going to an SQS queue; the function may read the stream and send to
/// the queue, nothing more.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamConsumer {
    pub handle: Handle,
}

impl StreamConsumer {
    pub fn new(
        stack: &mut Stack,
        function: &Function,
        stream_arn: Expr<String>,
        on_failure: &DeadLetterQueue,
        props: StreamConsumerProps,
    ) -> Result<Self, ConstructError> {
        let what = format!("the stream consumer of `{}`", function.id);
        if !(1..=10_000).contains(&props.batch_size) {
            return Err(ConstructError::invalid(&what, "has a batch size outside 1..=10000", "set batch_size"));
        }
        if props.batching_window_s > 300 {
            return Err(ConstructError::invalid(
                &what,
                "has a batching window over 300 s",
                "set batching_window_s to 300 or less",
            ));
        }
        if props.retries > 10_000 {
            return Err(ConstructError::invalid(&what, "retries more than 10000 times", "set retries"));
        }
        function.role.grant(
            stack,
            vec![
                Statement::allow(
                    &[
                        "dynamodb:DescribeStream",
                        "dynamodb:GetRecords",
                        "dynamodb:GetShardIterator",
                        "dynamodb:ListStreams",
                    ],
                    vec![stream_arn.clone()],
                ),
                Statement::allow(&["sqs:SendMessage"], vec![on_failure.arn()]),
            ],
        )?;
        let position = match props.starting_position {
            StartingPosition::Latest => "LATEST",
            StartingPosition::TrimHorizon => "TRIM_HORIZON",
        };
        let mut attrs = crate::template::Attributes::default();
        // the mapping checks the role's permissions when it is created
        attrs.depends_on.push(function.role.handle.id.to_string());
        let handle = stack.template.add_with(
            &format!("{}Stream", function.id),
            &lambda::EventSourceMapping {
                event_source_arn: Some(stream_arn),
                starting_position: Some(position.into()),
                batch_size: Some(i64::from(props.batch_size).into()),
                maximum_batching_window_in_seconds: Some(i64::from(props.batching_window_s).into()),
                maximum_retry_attempts: Some(i64::from(props.retries).into()),
                bisect_batch_on_function_error: Some(props.bisect_on_error.into()),
                function_response_types: Some(vec![
                    lambda::event_source_mapping::FunctionResponseTypes::ReportBatchItemFailures.into(),
                ]),
                destination_config: Some(lambda::event_source_mapping::DestinationConfig {
                    on_failure: Some(lambda::event_source_mapping::OnFailure { destination: Some(on_failure.arn()) }),
                }),
                ..lambda::EventSourceMapping::new(function.invoke_target())
            },
            attrs,
        )?;
        Ok(Self { handle })
    }
}

/// One schedule of a [`Schedules`].
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleSpec {
    /// Logical id, and the schedule's name suffix.
    pub id: String,
    pub description: String,
    /// `rate(...)`, `cron(...)` or `at(...)`.
    pub expression: String,
    /// The function (ARN, or its alias's ARN) to invoke.
    pub target: Expr<String>,
    /// JSON the function receives.
    pub input: String,
}

/// EventBridge Scheduler schedules sharing one role, which may `lambda:InvokeFunction` on
/// exactly the schedules' targets (rule L09), with a flexible window, bounded retries and a
/// dead-letter queue.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedules {
    pub role: Role,
    pub schedules: Vec<Handle>,
}

impl Schedules {
    pub fn new(
        stack: &mut Stack,
        id: &str,
        specs: Vec<ScheduleSpec>,
        flexible_window_minutes: u32,
        dead_letters: &DeadLetterQueue,
    ) -> Result<Self, ConstructError> {
        if specs.is_empty() {
            return Err(ConstructError::invalid(&format!("schedules `{id}`"), "has no schedules", "add one"));
        }
        if !(1..=1440).contains(&flexible_window_minutes) {
            return Err(ConstructError::invalid(
                &format!("schedules `{id}`"),
                &format!("have a flexible window of {flexible_window_minutes} minutes"),
                "use 1 to 1440 minutes",
            ));
        }
        let targets: Vec<Expr<String>> = specs.iter().map(|s| s.target.clone()).collect();
        let role = Role::new(
            stack,
            &format!("{id}Role"),
            "scheduler.amazonaws.com",
            vec![
                Statement::allow(&["lambda:InvokeFunction"], targets),
                Statement::allow(&["sqs:SendMessage"], vec![dead_letters.arn()]),
            ],
        )?;
        let mut schedules = vec![];
        for spec in specs {
            let handle = stack.template.add(
                &spec.id,
                &scheduler::Schedule {
                    name: Some(stack.physical_name(&spec.id.to_ascii_lowercase()).into()),
                    description: Some(spec.description.clone().into()),
                    state: Some(scheduler::schedule::ScheduleState::Enabled.into()),
                    ..scheduler::Schedule::new(
                        scheduler::schedule::FlexibleTimeWindow {
                            maximum_window_in_minutes: Some(f64::from(flexible_window_minutes).into()),
                            ..scheduler::schedule::FlexibleTimeWindow::new(
                                scheduler::schedule::FlexibleTimeWindowMode::Flexible,
                            )
                        },
                        spec.expression.as_str(),
                        scheduler::schedule::Target {
                            input: Some(spec.input.clone().into()),
                            retry_policy: Some(scheduler::schedule::RetryPolicy {
                                maximum_retry_attempts: Some(3.0.into()),
                                maximum_event_age_in_seconds: Some(3600.0.into()),
                            }),
                            dead_letter_config: Some(scheduler::schedule::DeadLetterConfig {
                                arn: Some(dead_letters.arn()),
                            }),
                            ..scheduler::schedule::Target::new(spec.target.clone(), role.arn())
                        },
                    )
                },
            )?;
            stack.output(
                &format!("{}Arn", spec.id),
                handle.get_att(scheduler::Schedule::ATTR_ARN),
                &format!("ARN of schedule {}", spec.id),
            )?;
            schedules.push(handle);
        }
        Ok(Self { role, schedules })
    }
}
