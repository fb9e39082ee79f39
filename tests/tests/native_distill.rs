//! Distillation's two promises, natively on the CPU: rejection sampling keeps exactly the teacher's
//! right answers and never samples a held-out problem, and a student fine-tuned on what it kept
//! writes in the teacher's format.
#![cfg(not(target_family = "wasm"))]

use aha_tasks::{
    Problem, ProblemGenerator, ProblemSpec, Split, held_out_set, is_correct, is_format_ok, parse_completion,
};
use aha_tests::base_model::{checkpoint, no_check_checkpoint};
use aha_train::complete::{complete, sampling};
use aha_train::{BaseRecipe, DistillConfig, DistillRun, teacher_answers};
use burn::tensor::Device;

fn config(samples_per_problem: usize, steps: usize) -> DistillConfig {
    DistillConfig {
        samples_per_problem,
        temperature: 1.0,
        max_completion_length: 74,
        batch_size: 32,
        steps,
        lr: 3e-3,
        warmup: 10,
        min_lr_ratio: 0.1,
        aux_loss_weight: 0.01,
        seed: 5,
    }
}

fn training_problems(count: usize, seed: u64) -> Vec<Problem> {
    ProblemGenerator::new(ProblemSpec::MUL_3X1, seed).unwrap().take(count).collect()
}

#[test]
fn rejection_sampling_keeps_exactly_the_right_answers_of_training_problems() {
    let device = Device::flex();
    let ck = checkpoint();
    let teacher = ck.load_model(&device).unwrap();
    let problems = training_problems(32, 7);
    let config = config(2, 1);
    let answers =
        pollster::block_on(teacher_answers(&teacher, &ck.tokenizer, &problems, &config, &device)).unwrap();
    assert_eq!(answers.sampled(), 64);
    for trace in &answers.traces {
        let problem = Problem::parse(&trace.prompt).unwrap();
        assert_eq!(problem.split(), Split::Train, "{}", trace.prompt);
        assert!(
            is_correct(&problem, &parse_completion(&trace.completion)),
            "{}{}",
            trace.prompt,
            trace.completion
        );
        assert_eq!(trace.loss_mask.len(), trace.completion.chars().count());
    }
    // The same draws, counted here: every right answer was kept, not only some of them.
    let prompts: Vec<String> = problems.iter().flat_map(|p| [p.prompt(), p.prompt()]).collect();
    let draws =
        sampling(&ck.tokenizer, '.', config.temperature, config.max_completion_length, config.seed).unwrap();
    let texts =
        pollster::block_on(complete(&teacher, &ck.tokenizer, &prompts, &draws, &device)).unwrap().texts;
    let rows = problems.iter().flat_map(|p| [*p, *p]);
    let right = rows.zip(&texts).filter(|(p, t)| is_correct(p, &parse_completion(t))).count();
    assert_eq!(answers.traces.len(), right);
    // The dropped ones are the rest, each wrong, as sampled.
    assert_eq!(answers.rejected.len(), 64 - right);
    for (prompt, completion) in &answers.rejected {
        let problem = Problem::parse(prompt).unwrap();
        assert!(!is_correct(&problem, &parse_completion(completion)), "{prompt}{completion}");
        assert!(texts.contains(completion), "{completion} was not among the draws");
    }
    // The base model is right often, not always: both sides of the filter were exercised.
    assert!(0 < right && right < 64, "{right} of 64 right");

    let mut with_held_out = problems.clone();
    with_held_out.push(held_out_set(ProblemSpec::MUL_3X1, 1, 0).unwrap()[0]);
    let refused =
        pollster::block_on(teacher_answers(&teacher, &ck.tokenizer, &with_held_out, &config, &device))
            .unwrap_err();
    assert!(refused.to_string().contains("held-out"), "{refused}");
}

#[test]
fn a_student_fine_tuned_on_teacher_answers_writes_in_their_format() {
    let device = Device::flex();
    // The ablation's model as the teacher: its answers have a format of their own, a guess and an
    // answer and never a check (`g1745 a1745.`), that a student from scratch learns in a few
    // hundred steps (Aha's full format with its check takes thousands).
    let ck = no_check_checkpoint();
    let teacher = ck.load_model(&device).unwrap();
    let answers = pollster::block_on(teacher_answers(
        &teacher,
        &ck.tokenizer,
        &training_problems(128, 11),
        &config(2, 1),
        &device,
    ))
    .unwrap();
    assert!(answers.traces.iter().all(|t| parse_completion(&t.completion).check.is_none()));
    // The student's model from scratch (not its base model): it knows nothing of the format yet.
    let student_config = BaseRecipe::named("student", ck.tokenizer.vocab_size()).unwrap().model;
    assert!(student_config.num_params() * 3 < ck.config.num_params());
    let student = student_config.init_seeded(&device, 3);
    let probe = training_problems(32, 13);
    let greedy = |model: &aha_model::Model| {
        let prompts: Vec<String> = probe.iter().map(Problem::prompt).collect();
        let greedy = sampling(&ck.tokenizer, '.', 0.0, 74, 0).unwrap();
        let texts =
            pollster::block_on(complete(model, &ck.tokenizer, &prompts, &greedy, &device)).unwrap().texts;
        probe.iter().zip(texts).map(|(p, t)| (parse_completion(&t), *p)).collect::<Vec<_>>()
    };
    let formatted = |answers: &[(aha_tasks::ParsedCompletion, Problem)]| {
        answers.iter().filter(|(parsed, problem)| is_format_ok(problem, parsed)).count()
    };
    assert_eq!(formatted(&greedy(&student)), 0);
    let mut run = DistillRun::new(student, answers, config(2, 200), ck.tokenizer.clone(), &device).unwrap();
    while let Some(step) = pollster::block_on(run.next_step()) {
        step.unwrap();
    }
    let after = greedy(&run.student());
    assert!(formatted(&after) >= 30, "{} of 32 greedy answers in the teacher's format", formatted(&after));
    assert!(after.iter().all(|(parsed, _)| parsed.check.is_none()), "the teacher never checks");
}

#[test]
fn the_shipped_student_is_the_student_recipe_and_small_enough_to_ship() {
    let weights = include_bytes!("../../web/public/student-model/model.bpk");
    let student = aha_train::Checkpoint::from_parts(
        include_str!("../../web/public/student-model/config.json"),
        include_str!("../../web/public/student-model/tokenizer.json"),
        weights.to_vec(),
    )
    .unwrap();
    assert!(weights.len() <= 1_000_000, "{} bytes", weights.len());
    let recipe: BaseRecipe =
        serde_json::from_str(include_str!("../../web/public/student-model/recipe.json")).unwrap();
    assert_eq!(Some(&recipe), BaseRecipe::named("student", student.tokenizer.vocab_size()).as_ref());
    assert_eq!(student.config, recipe.model);
    assert!(student.config.num_params() * 3 < checkpoint().config.num_params());
}
