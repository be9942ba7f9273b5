//! What an invocation's result means for its trigger, decided in one place: done, handled and
//! kept in the record queue, or failed so that it is retried (then dead-lettered). The Lambda
//! face only maps a [`Disposition`] to the runtime.

use super::event::HandleError;
use crate::outcome::EventOutcome;

/// Why an invocation fails; each kind is its own variant, with its own `errorType`.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// Handling an event failed (or the sweep could not list its accounts).
    #[error(transparent)]
    Handle(#[from] HandleError),
    /// The sweep payload is not one sgguard takes (hub/sweep-payload.schema.json).
    #[error("sweep payload: {0}")]
    SweepRequest(String),
    /// The result could not be written as JSON.
    #[error("the result could not be written: {0}")]
    Result(#[from] serde_json::Error),
    /// A step of the distributed sweep found a file of the sweep unreadable (its items, a
    /// part, the Map's results); the text names it.
    #[error("sweep step: {0}")]
    SweepStep(String),
}

impl Failure {
    /// The Lambda `errorType`: what kind of failure, at a glance in logs and the DLQ.
    pub fn error_type(&self) -> &'static str {
        match self {
            Failure::Handle(error) => error.error_type(),
            Failure::SweepRequest(_) => "Sgguard.BadSweepRequest",
            Failure::Result(_) => "Sgguard.ResultUnwritable",
            Failure::SweepStep(_) => "Sgguard.SweepStepFailed",
        }
    }
}

/// What the invocation answers.
#[derive(Debug)]
pub enum Disposition<T> {
    /// Handled; `T` is the result.
    Done(T),
    /// Not everything could be done, but what was not is in the record queue (`T` names the
    /// record): a retry would do no better, so the invocation succeeds.
    Recorded(T),
    /// The invocation fails: Lambda retries it, then its on-failure destination keeps it.
    Retry(Failure),
}

impl<T> Disposition<T> {
    /// The same disposition with its result changed by `f` (a failure stays).
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Disposition<U> {
        match self {
            Disposition::Done(value) => Disposition::Done(f(value)),
            Disposition::Recorded(value) => Disposition::Recorded(f(value)),
            Disposition::Retry(failure) => Disposition::Retry(failure),
        }
    }
}

/// The disposition of one handled event.
pub fn of_event(outcome: EventOutcome, error: Option<HandleError>) -> Disposition<EventOutcome> {
    match error {
        None => Disposition::Done(outcome),
        // A tripped breaker is handled, not failed: Lambda's retry would bring a fresh budget
        // and revoke another batch. The critical message is sent and the `BreakerTripped`
        // metric has its own alarm.
        Some(error) if error.answered_as_handled() => Disposition::Done(outcome),
        // An event sgguard cannot read is handled once its record (with the event) is in the
        // queue: a retry would read it no better. Without the record, Lambda's on-failure
        // destination keeps it.
        Some(HandleError::Malformed(_)) if outcome.recorded.is_some() => {
            Disposition::Recorded(outcome)
        }
        Some(error) => Disposition::Retry(error.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::AwsError;
    use crate::outcome::Mode;

    fn aws_error() -> AwsError {
        AwsError {
            operation: "Publish",
            account: "111122223333".to_owned(),
            region: "eu-west-1".to_owned(),
            code: Some("InternalError".to_owned()),
            message: "down".to_owned(),
        }
    }

    #[test]
    fn each_event_failure_has_one_disposition() {
        let plain = || EventOutcome::new(Mode::Enforce);
        let recorded = || EventOutcome {
            recorded: Some("record-1".to_owned()),
            ..plain()
        };
        assert!(matches!(of_event(plain(), None), Disposition::Done(_)));
        let tripped = HandleError::CircuitBreaker("more than 20".to_owned());
        assert!(matches!(
            of_event(plain(), Some(tripped)),
            Disposition::Done(_)
        ));
        let malformed = || HandleError::Malformed("not json".to_owned());
        assert!(matches!(
            of_event(recorded(), Some(malformed())),
            Disposition::Recorded(_)
        ));
        let Disposition::Retry(failure) = of_event(plain(), Some(malformed())) else {
            panic!("a malformed event without its record must fail the invocation");
        };
        assert_eq!(failure.error_type(), "Sgguard.MalformedEvent");
        // A message that could not be sent is retried even when recorded: the retry resends it.
        let Disposition::Retry(failure) =
            of_event(recorded(), Some(HandleError::Notification(aws_error())))
        else {
            panic!("an undelivered message must fail the invocation");
        };
        assert_eq!(failure.error_type(), "Sgguard.NotificationFailed");
        let bad = Failure::SweepRequest("`regions`: expected a list".to_owned());
        assert_eq!(bad.error_type(), "Sgguard.BadSweepRequest");
        assert_eq!(bad.to_string(), "sweep payload: `regions`: expected a list");
    }
}
